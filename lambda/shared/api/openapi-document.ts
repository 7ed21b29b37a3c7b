/**
 * The REST API's one OpenAPI 3 document: the source of truth for routes, request and response
 * schemas. API Gateway builds its methods, authorizers and request models from it, handlers
 * validate bodies against it, local mode routes by it and the tests check every response
 * against it. Schemas keep to the JSON Schema subset that API Gateway models accept (draft 4).
 */

export type JsonSchema = Record<string, unknown>;

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  /** Public operations need no token; every other one has the Cognito authorizer. */
  readonly public?: boolean;
  readonly requestSchema?: string;
  /** Status code to the name of the schema of its body. */
  readonly responses: Readonly<Record<number, string>>;
}

const MAX_PART_NUMBER = 10_000;

const uuid = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
const timestamp = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' };

export const schemas: Readonly<Record<string, JsonSchema>> = {
  Error: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok', 'degraded'] }, services: { type: 'object' } },
  },
  OpenApiDocument: { type: 'object', required: ['openapi', 'paths'] },
  CreateUploadRequest: {
    type: 'object',
    required: ['filename', 'size'],
    additionalProperties: false,
    properties: {
      filename: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        // A file's own name: no folders, no control characters, not "." or "..".
        pattern: '^(?!\\.{1,2}$)[^/\\\\\\u0000-\\u001f\\u007f]+$',
      },
      size: { type: 'integer', minimum: 1, maximum: 5 * 1024 ** 4 },
      contentType: { type: 'string', maxLength: 255, pattern: '^[\\w.+-]+/[\\w.+-]+$' },
    },
  },
  Upload: {
    type: 'object',
    required: ['id', 'filename', 'size', 'partSize', 'partCount', 'status', 'createdAt'],
    additionalProperties: false,
    properties: {
      id: uuid,
      filename: { type: 'string' },
      size: { type: 'integer' },
      contentType: { type: 'string' },
      partSize: { type: 'integer' },
      partCount: { type: 'integer', minimum: 1, maximum: MAX_PART_NUMBER },
      status: { type: 'string', enum: ['Pending', 'Completed', 'Aborted'] },
      createdAt: timestamp,
      completedAt: timestamp,
    },
  },
  UploadPartsRequest: {
    type: 'object',
    required: ['partNumbers'],
    additionalProperties: false,
    properties: {
      partNumbers: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
        items: { type: 'integer', minimum: 1, maximum: MAX_PART_NUMBER },
      },
    },
  },
  UploadPartUrls: {
    type: 'object',
    required: ['parts'],
    additionalProperties: false,
    properties: {
      parts: {
        type: 'array',
        items: {
          type: 'object',
          required: ['partNumber', 'url', 'size', 'expiresAt'],
          additionalProperties: false,
          properties: {
            partNumber: { type: 'integer' },
            url: { type: 'string' },
            size: { type: 'integer' },
            expiresAt: timestamp,
          },
        },
      },
    },
  },
  CompleteUploadRequest: {
    type: 'object',
    required: ['parts'],
    additionalProperties: false,
    properties: {
      parts: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_PART_NUMBER,
        items: {
          type: 'object',
          required: ['partNumber', 'etag'],
          additionalProperties: false,
          properties: {
            partNumber: { type: 'integer', minimum: 1, maximum: MAX_PART_NUMBER },
            etag: { type: 'string', minLength: 1, maxLength: 128, pattern: '^"?[0-9a-fA-F-]+"?$' },
          },
        },
      },
    },
  },
  CreateImageRequest: {
    type: 'object',
    required: ['uploads'],
    additionalProperties: false,
    properties: {
      uploads: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: uuid },
      name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
    },
  },
  Image: {
    type: 'object',
    required: ['id', 'name', 'status', 'statusDetail', 'files', 'errors', 'metadata', 'createdAt'],
    additionalProperties: false,
    properties: {
      id: uuid,
      name: { type: 'string' },
      status: { type: 'string', enum: ['Queued', 'Started', 'Succeeded', 'Failed'] },
      statusDetail: { type: 'string' },
      files: {
        type: 'array',
        items: {
          type: 'object',
          required: ['uploadId', 'filename', 'size'],
          additionalProperties: false,
          properties: { uploadId: uuid, filename: { type: 'string' }, size: { type: 'integer' } },
        },
      },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['filename', 'reason'],
          additionalProperties: false,
          properties: { filename: { type: 'string' }, reason: { type: 'string' } },
        },
      },
      metadata: { type: 'object' },
      downloadUrl: { type: 'string' },
      downloadUrlExpiresAt: timestamp,
      createdAt: timestamp,
      updatedAt: timestamp,
    },
  },
};

const errors = { 400: 'Error', 401: 'Error', 404: 'Error', 409: 'Error', 413: 'Error', 429: 'Error' };

/** Path template to HTTP method to operation. */
export const operations: Readonly<Record<string, Readonly<Record<string, Operation>>>> = {
  '/v1/health': {
    get: {
      operationId: 'getHealth',
      summary: 'Whether the API answers',
      public: true,
      responses: { 200: 'Health' },
    },
  },
  '/v1/openapi.json': {
    get: {
      operationId: 'getOpenApiDocument',
      summary: 'This document',
      public: true,
      responses: { 200: 'OpenApiDocument' },
    },
  },
  '/v1/uploads': {
    post: {
      operationId: 'createUpload',
      summary: "Start a multipart upload of one file into the caller's space; counts against the quota",
      requestSchema: 'CreateUploadRequest',
      responses: { 201: 'Upload', ...errors },
    },
  },
  '/v1/uploads/{uploadId}': {
    get: { operationId: 'getUpload', summary: 'Read an upload', responses: { 200: 'Upload', ...errors } },
    delete: {
      operationId: 'abortUpload',
      summary: 'Abort an upload, discarding its parts and returning its quota',
      responses: { 200: 'Upload', ...errors },
    },
  },
  '/v1/uploads/{uploadId}/parts': {
    post: {
      operationId: 'signUploadParts',
      summary: 'Presigned URLs, each good for one part of the exact part size for a limited time',
      requestSchema: 'UploadPartsRequest',
      responses: { 200: 'UploadPartUrls', ...errors },
    },
  },
  '/v1/uploads/{uploadId}/complete': {
    post: {
      operationId: 'completeUpload',
      summary: 'Finish an upload from its parts and their ETags',
      requestSchema: 'CompleteUploadRequest',
      responses: { 200: 'Upload', ...errors },
    },
  },
  '/v1/images': {
    post: {
      operationId: 'createImage',
      summary: 'Turn completed uploads into an image: records it as Queued and queues its conversion',
      requestSchema: 'CreateImageRequest',
      responses: { 201: 'Image', ...errors },
    },
  },
  '/v1/images/{imageId}': {
    get: {
      operationId: 'getImage',
      summary: 'Status, per-file errors, metadata and, once converted, a signed download URL',
      responses: { 200: 'Image', ...errors },
    },
  },
};

/** Every operation with its path and method, in document order. */
export function listOperations(): { path: string; method: string; operation: Operation }[] {
  return Object.entries(operations).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );
}

/** The document as served at `GET /v1/openapi.json`. */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { path, method, operation } of listOperations()) {
    const parameters = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: uuid,
    }));
    paths[path] ??= {};
    paths[path][method] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.public ? { security: [] } : {}),
      ...(parameters.length > 0 && { parameters }),
      ...(operation.requestSchema && {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: `#/components/schemas/${operation.requestSchema}` } },
          },
        },
      }),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, schema]) => [
          status,
          {
            description: schema,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Imaging platform API', version: '1' },
    ...(serverUrl && { servers: [{ url: serverUrl }] }),
    security: [{ cognito: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Cognito ID token' },
      },
    },
  };
}
