import { BUILD_PHASES, BUILD_STATES } from '../contracts/builds';
import { JsonSchema, timestamp, uuid } from '../contracts/schema-primitives';
import { uploadFilename, uploadSize } from '../uploads/schemas';

/** Schemas of algorithm builds. */

const build = {
  type: 'object',
  required: [
    'id',
    'algorithmId',
    'status',
    'statusDetail',
    'uploadId',
    'filename',
    'dockerfile',
    'createdAt',
    'updatedAt',
  ],
  additionalProperties: false,
  properties: {
    id: uuid,
    algorithmId: uuid,
    status: { type: 'string', enum: [...BUILD_STATES] },
    statusDetail: { type: 'string' },
    uploadId: uuid,
    filename: { type: 'string' },
    dockerfile: { type: 'string' },
    createdAt: timestamp,
    queuedAt: timestamp,
    startedAt: timestamp,
    endedAt: timestamp,
    image: { type: 'string' },
    digest: { type: 'string' },
    sizeBytes: { type: 'integer' },
    phaseSeconds: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(BUILD_PHASES.map((phase) => [phase, { type: 'number', minimum: 0 }])),
    },
    versionId: uuid,
    logTail: { type: 'array', items: { type: 'string' } },
    updatedAt: timestamp,
  },
};

export const buildsSchemas = {
  CreateBuildRequest: {
    type: 'object',
    required: ['filename', 'size'],
    additionalProperties: false,
    properties: {
      // The context is uploaded as any file is.
      filename: uploadFilename,
      size: uploadSize,
      dockerfile: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
    },
  },
  Build: build,
  CreatedBuild: {
    type: 'object',
    required: ['build', 'upload'],
    additionalProperties: false,
    properties: {
      build: { $ref: '#/components/schemas/Build' },
      upload: { $ref: '#/components/schemas/Upload' },
    },
  },
  BuildList: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: { $ref: '#/components/schemas/Build' } },
      nextToken: { type: 'string' },
    },
  },
} satisfies Record<string, JsonSchema>;
