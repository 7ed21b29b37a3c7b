import { JsonSchema, printable, timestamp, uuid } from '../contracts/schema-primitives';
import { MAX_UPLOADS_PER_IMAGE } from '../contracts/upload-limits';

/** Schemas of images. */
export const imagesSchemas = {
  CreateImageRequest: {
    type: 'object',
    required: ['uploads'],
    additionalProperties: false,
    properties: {
      uploads: {
        type: 'array',
        description: `The uploads the image is made of: at most the platform's \`limits.uploadsPerImage\` (${MAX_UPLOADS_PER_IMAGE} unless configured lower); more are refused with a 400 that names the limit.`,
        minItems: 1,
        maxItems: MAX_UPLOADS_PER_IMAGE,
        uniqueItems: true,
        items: uuid,
      },
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
