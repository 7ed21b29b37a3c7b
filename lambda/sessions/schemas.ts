import { JsonSchema, printable, timestamp, uuid } from '../contracts/schema-primitives';
import { SESSION_STATUSES } from './session-record';

/** Images a session shows at most, and overlays drawn over them in all. */
export const MAX_SESSION_IMAGES = 8;
export const MAX_SESSION_OVERLAYS = 16;

const overlayView = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: { id: uuid, name: { type: 'string' } },
};

/** Schemas of viewer sessions. */
export const sessionsSchemas = {
  CreateSessionRequest: {
    type: 'object',
    // images (with overlays) or a job: the handler says which is missing when neither is given.
    minProperties: 1,
    additionalProperties: false,
    properties: {
      images: { type: 'array', minItems: 1, maxItems: MAX_SESSION_IMAGES, uniqueItems: true, items: uuid },
      overlays: {
        type: 'array',
        maxItems: MAX_SESSION_OVERLAYS,
        items: {
          type: 'object',
          required: ['image', 'on'],
          additionalProperties: false,
          properties: { image: uuid, on: uuid },
        },
      },
      job: uuid,
      /**
       * The viewer region, as the client measured it nearest: `GET /v1/viewer-regions` lists them.
       * Any other is refused by the handler, naming those there are.
       */
      region: { type: 'string', minLength: 1, maxLength: 32 },
    },
  },
  Session: {
    type: 'object',
    required: [
      'id',
      'status',
      'region',
      'viewerUrl',
      'expiresAt',
      'maxExpiresAt',
      'images',
      'createdAt',
      'updatedAt',
    ],
    additionalProperties: false,
    properties: {
      id: uuid,
      status: { type: 'string', enum: [...SESSION_STATUSES] },
      statusReason: { type: 'string' },
      region: { type: 'string' },
      viewerUrl: { type: 'string' },
      /** Only in the answers of create and keep-alive: the signed session credential. */
      credential: { type: 'string' },
      expiresAt: timestamp,
      maxExpiresAt: timestamp,
      images: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'name', 'kind', 'overlays'],
          additionalProperties: false,
          properties: {
            id: uuid,
            name: { type: 'string' },
            kind: { type: 'string', enum: ['volume', 'slide'] },
            overlays: { type: 'array', items: overlayView },
          },
        },
      },
      job: uuid,
      createdAt: timestamp,
      updatedAt: timestamp,
    },
  },
  ViewerRegions: {
    type: 'object',
    required: ['defaultRegion', 'regions'],
    additionalProperties: false,
    properties: {
      /** Where a session goes when its request names no region. */
      defaultRegion: { type: 'string' },
      regions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['region', 'available'],
          additionalProperties: false,
          properties: {
            region: { type: 'string' },
            /** False until the region's viewer is deployed: sessions there answer 503. */
            available: { type: 'boolean' },
            /** Answers 204 at once: what a client times to find its nearest region. */
            pingUrl: { type: 'string' },
          },
        },
      },
    },
  },
  ViewerReportRequest: {
    type: 'object',
    required: ['state'],
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: ['Running', 'Active', 'Failed'] },
      reason: printable(1000),
    },
  },
  ViewerReport: {
    type: 'object',
    required: ['status', 'expiresAt'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: [...SESSION_STATUSES] },
      expiresAt: timestamp,
      /** A fresh credential, while the session runs. */
      credential: { type: 'string' },
    },
  },
} satisfies Record<string, JsonSchema>;
