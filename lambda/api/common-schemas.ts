import { JsonSchema } from '../contracts/schema-primitives';

/** Schemas of errors, health and the document itself. */
export const commonSchemas = {
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
} satisfies Record<string, JsonSchema>;
