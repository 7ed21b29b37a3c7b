import { JsonSchema, timestamp, uuid } from '../contracts/schema-primitives';

/** Schemas of jobs: submission, state, outputs and logs. */

export const JOB_STATUSES = [
  'Validating inputs',
  'Queued',
  'Re-Queued',
  'Provisioning',
  'Executing',
  'Parsing outputs',
  'Succeeded',
  'Failed',
  'Cancelled',
] as const;

/**
 * Most jobs one job may evaluate (`predictions`): each is read, checked and has its outputs
 * pinned within the submitting request.
 */
export const MAX_PREDICTIONS = 100;

const predictions = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_PREDICTIONS,
  items: uuid,
  description: `Succeeded jobs of the caller (at most ${MAX_PREDICTIONS}) whose outputs the job reads as grand-challenge's evaluations do: /input/predictions.json and /input/<job id>/output/<relative path>`,
};

const slug = { type: 'string', maxLength: 64, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' };

const jobInput = {
  type: 'object',
  required: ['socket'],
  additionalProperties: false,
  properties: {
    socket: slug,
    /** An image the caller may see, for image sockets. */
    image: uuid,
    /** Any JSON value, for json sockets. */
    value: {},
    /** A completed upload of the caller, for file sockets (csv, zip, pdf, ...). */
    file: uuid,
  },
};

export const jobsSchemas = {
  SubmitJobRequest: {
    type: 'object',
    required: ['algorithm', 'inputs'],
    additionalProperties: false,
    properties: {
      algorithm: uuid,
      inputs: { type: 'array', minItems: 1, maxItems: 32, items: jobInput },
      predictions,
    },
  },
  Job: {
    type: 'object',
    required: [
      'id',
      'algorithm',
      'algorithmVersion',
      'status',
      'inputs',
      'outputs',
      'createdAt',
      'updatedAt',
    ],
    additionalProperties: false,
    properties: {
      id: uuid,
      algorithm: uuid,
      algorithmVersion: uuid,
      // The algorithm's model the job runs with (at /opt/ml/model), when it had an active one.
      model: {
        type: 'object',
        required: ['id', 'sha256'],
        additionalProperties: false,
        properties: { id: uuid, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      },
      status: { type: 'string', enum: [...JOB_STATUSES] },
      statusReason: { type: 'string' },
      inputs: { type: 'array', items: jobInput },
      predictions,
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['socket'],
          additionalProperties: false,
          properties: {
            socket: slug,
            value: {},
            url: { type: 'string' },
            urlExpiresAt: timestamp,
            // An image output: the image the converter makes of it, readable at /v1/images/{id}.
            image: uuid,
          },
        },
      },
      createdAt: timestamp,
      updatedAt: timestamp,
      startedAt: timestamp,
      stoppedAt: timestamp,
    },
  },
  JobList: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: { $ref: '#/components/schemas/Job' } },
      nextToken: { type: 'string' },
    },
  },
  JobLogs: {
    type: 'object',
    required: ['lines'],
    additionalProperties: false,
    properties: {
      lines: {
        type: 'array',
        items: {
          type: 'object',
          required: ['timestamp', 'source', 'message'],
          additionalProperties: false,
          properties: {
            timestamp: timestamp,
            source: { type: 'string', enum: ['stdout', 'stderr'] },
            message: { type: 'string' },
          },
        },
      },
    },
  },
} satisfies Record<string, JsonSchema>;
