import { JsonSchema, MAX_PART_NUMBER, timestamp, uuid } from '../contracts/schema-primitives';

/** An uploaded file's own name: no folders, no control characters, not "." or "..". */
export const uploadFilename: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^(?!\\.{1,2}$)[^/\\\\\\u0000-\\u001f\\u007f]+$',
};

/** An uploaded file's bytes: S3 takes objects up to 5 TiB. */
export const uploadSize: JsonSchema = { type: 'integer', minimum: 1, maximum: 5 * 1024 ** 4 };

/** Schemas of multipart uploads. */
export const uploadsSchemas = {
  CreateUploadRequest: {
    type: 'object',
    required: ['filename', 'size'],
    additionalProperties: false,
    properties: {
      filename: uploadFilename,
      size: uploadSize,
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
} satisfies Record<string, JsonSchema>;
