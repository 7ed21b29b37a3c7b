/**
 * The REST API's one OpenAPI 3 document: the source of truth for routes, request and response
 * schemas. API Gateway builds its methods, authorizers and request models from it, handlers
 * validate bodies against it, local mode routes by it and the tests check every response
 * against it. Schemas keep to the JSON Schema subset that API Gateway models accept (draft 4).
 */

import { algorithmsSchemas } from '../algorithms/schemas';
import { commonSchemas } from './common-schemas';
import { imagesSchemas } from '../images/schemas';
import { jobsSchemas } from '../jobs/schemas';
import { JsonSchema, uuid } from './schema-primitives';
import { uploadsSchemas } from '../uploads/schemas';

export type { JsonSchema };

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  /** Public operations need no token; every other one has the Cognito authorizer. */
  readonly public?: boolean;
  readonly requestSchema?: string;
  /** Status code to the name of the schema of its body. */
  readonly responses: Readonly<Record<number, string>>;
}

export const schemas: Readonly<Record<string, JsonSchema>> = {
  ...commonSchemas,
  ...uploadsSchemas,
  ...imagesSchemas,
  ...algorithmsSchemas,
  ...jobsSchemas,
};

const errors = {
  400: 'Error',
  401: 'Error',
  403: 'Error',
  404: 'Error',
  409: 'Error',
  413: 'Error',
  429: 'Error',
};

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
  '/v1/algorithms': {
    post: {
      operationId: 'createAlgorithm',
      summary: 'Register an algorithm: interfaces, limits, GPU choice and its first container image',
      requestSchema: 'CreateAlgorithmRequest',
      responses: { 201: 'Algorithm', ...errors },
    },
    get: {
      operationId: 'listAlgorithms',
      summary: 'Algorithms the caller edits or may run, a page at a time (limit, nextToken)',
      responses: { 200: 'AlgorithmList', ...errors },
    },
  },
  '/v1/algorithms/{algorithmId}': {
    get: {
      operationId: 'getAlgorithm',
      summary: 'Read an algorithm',
      responses: { 200: 'Algorithm', ...errors },
    },
  },
  '/v1/algorithms/{algorithmId}/users': {
    put: {
      operationId: 'setAlgorithmUsers',
      summary: 'Editors only: who edits the algorithm and who may run it',
      requestSchema: 'SetAlgorithmUsersRequest',
      responses: { 200: 'Algorithm', ...errors },
    },
  },
  '/v1/algorithms/{algorithmId}/versions': {
    post: {
      operationId: 'createAlgorithmVersion',
      summary: 'Editors only: add a container image version, which becomes the active one',
      requestSchema: 'CreateAlgorithmVersionRequest',
      responses: { 201: 'AlgorithmVersion', ...errors },
    },
  },
  '/v1/jobs': {
    post: {
      operationId: 'submitJob',
      summary:
        'Run an algorithm on inputs that match one of its interfaces; an Idempotency-Key header makes retries safe',
      requestSchema: 'SubmitJobRequest',
      responses: { 201: 'Job', 200: 'Job', ...errors },
    },
    get: {
      operationId: 'listJobs',
      summary:
        "The caller's jobs, or all jobs of an algorithm they edit (algorithm, status, limit, nextToken)",
      responses: { 200: 'JobList', ...errors },
    },
  },
  '/v1/jobs/{jobId}': {
    get: {
      operationId: 'getJob',
      summary: 'A job with its outputs, files as signed URLs',
      responses: { 200: 'Job', ...errors },
    },
  },
  '/v1/jobs/{jobId}/cancel': {
    post: {
      operationId: 'cancelJob',
      summary: 'Stop a job that has not ended',
      responses: { 200: 'Job', ...errors },
    },
  },
  '/v1/jobs/{jobId}/logs': {
    get: {
      operationId: 'getJobLogs',
      summary: 'Editors of the algorithm: the last 500 lines the container wrote',
      responses: { 200: 'JobLogs', ...errors },
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
