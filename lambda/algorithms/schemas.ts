import { JsonSchema, printable, timestamp, uuid } from '../contracts/schema-primitives';

/** Schemas of algorithms: interfaces of sockets, limits, members and container image versions. */

export const SOCKET_KINDS = ['image', 'json', 'csv', 'zip', 'pdf', 'png', 'jpeg', 'txt'] as const;

const userId = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' };

/** An ECR image by digest; local mode also runs images built on this machine (`localhost/...`). */
export const containerImage = {
  type: 'string',
  maxLength: 512,
  pattern:
    '^(\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com|localhost)/[a-z0-9]+([._/-][a-z0-9]+)*@sha256:[0-9a-f]{64}$',
};

const socket = {
  type: 'object',
  required: ['slug', 'kind', 'relativePath'],
  additionalProperties: false,
  properties: {
    slug: { type: 'string', maxLength: 64, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
    kind: { type: 'string', enum: [...SOCKET_KINDS] },
    // Relative, lower-case segments that start with a letter or digit: no "..", no absolute paths.
    relativePath: {
      type: 'string',
      maxLength: 255,
      pattern: '^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$',
    },
    schema: { type: 'object' },
  },
};

const algorithmInterface = {
  type: 'object',
  required: ['inputs', 'outputs'],
  additionalProperties: false,
  properties: {
    inputs: { type: 'array', minItems: 1, maxItems: 32, items: socket },
    outputs: { type: 'array', minItems: 1, maxItems: 32, items: socket },
  },
};

const version = {
  type: 'object',
  required: ['id', 'image', 'createdAt'],
  additionalProperties: false,
  properties: { id: uuid, image: { type: 'string' }, createdAt: timestamp },
};

const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };

/** The model an algorithm's jobs run with, as the algorithm shows it. */
const activeModel = {
  type: 'object',
  required: ['id', 'sha256'],
  additionalProperties: false,
  properties: { id: uuid, sha256 },
};

const model = {
  type: 'object',
  required: ['id', 'algorithmId', 'filename', 'sizeBytes', 'state', 'active', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: uuid,
    algorithmId: uuid,
    filename: { type: 'string' },
    sizeBytes: { type: 'integer' },
    comment: { type: 'string' },
    state: { type: 'string', enum: ['Validating', 'Ready', 'Failed'] },
    reason: { type: 'string' },
    sha256,
    entries: { type: 'integer' },
    extractedBytes: { type: 'integer' },
    active: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
};

export const algorithmsSchemas = {
  CreateAlgorithmRequest: {
    type: 'object',
    required: ['title', 'interfaces'],
    additionalProperties: false,
    properties: {
      title: printable(200),
      description: { type: 'string', maxLength: 5000 },
      interfaces: { type: 'array', minItems: 1, maxItems: 16, items: algorithmInterface },
      timeLimitSeconds: { type: 'integer', minimum: 300, maximum: 86400 },
      memoryGb: { type: 'integer', minimum: 4, maximum: 32 },
      gpu: { type: 'boolean' },
      image: containerImage,
    },
  },
  Algorithm: {
    type: 'object',
    required: ['id', 'title', 'interfaces', 'timeLimitSeconds', 'memoryGb', 'gpu', 'role', 'createdAt'],
    additionalProperties: false,
    properties: {
      id: uuid,
      title: { type: 'string' },
      description: { type: 'string' },
      interfaces: { type: 'array', items: algorithmInterface },
      timeLimitSeconds: { type: 'integer' },
      memoryGb: { type: 'integer' },
      gpu: { type: 'boolean' },
      activeVersion: version,
      activeModel,
      role: { type: 'string', enum: ['editor', 'user'] },
      editors: { type: 'array', items: userId },
      users: { type: 'array', items: userId },
      createdAt: timestamp,
      updatedAt: timestamp,
    },
  },
  AlgorithmList: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: { $ref: '#/components/schemas/Algorithm' } },
      nextToken: { type: 'string' },
    },
  },
  SetAlgorithmUsersRequest: {
    type: 'object',
    required: ['editors', 'users'],
    additionalProperties: false,
    properties: {
      editors: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: userId },
      users: { type: 'array', maxItems: 1000, uniqueItems: true, items: userId },
    },
  },
  CreateAlgorithmVersionRequest: {
    type: 'object',
    required: ['image'],
    additionalProperties: false,
    properties: { image: containerImage },
  },
  AlgorithmVersion: version,
  CreateAlgorithmModelRequest: {
    type: 'object',
    required: ['uploadId'],
    additionalProperties: false,
    properties: { uploadId: uuid, comment: { type: 'string', maxLength: 1000 } },
  },
  AlgorithmModel: model,
  AlgorithmModelList: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: { $ref: '#/components/schemas/AlgorithmModel' } },
      nextToken: { type: 'string' },
    },
  },
} satisfies Record<string, JsonSchema>;
