import { JsonSchema, printable, timestamp, uuid } from '../contracts/schema-primitives';

/** Schemas of images. */
export const imagesSchemas = {
  CreateImageRequest: {
    type: 'object',
    required: ['uploads'],
    additionalProperties: false,
    properties: {
      uploads: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: uuid },
      name: printable(255),
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
      siblings: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'name'],
          additionalProperties: false,
          properties: { id: uuid, name: { type: 'string' } },
        },
      },
      downloadUrl: { type: 'string' },
      downloadUrlExpiresAt: timestamp,
      createdAt: timestamp,
      updatedAt: timestamp,
    },
  },
} satisfies Record<string, JsonSchema>;
