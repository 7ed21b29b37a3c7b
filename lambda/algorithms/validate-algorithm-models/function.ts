import { modelObjectKey, UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { BackgroundFunction } from '../../contracts/handler-deployment';
import { INPUT_COPIES } from '../../contracts/job-queues';
import { MODEL_LIMITS } from '../../contracts/model-limits';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';

/** Longest one run takes, Lambda's own limit: a model of many GiB is read in a few minutes. */
export const VALIDATION_TIMEOUT_SECONDS = 900;

/**
 * Every minute, validates the models that wait for it: copies each one's upload to the model's
 * own key, then reads that copy once (SHA-256, and every tar header against the model limits).
 * A schedule rather than the request: a model may take minutes to read, past the API's 29 s.
 */
export const backgroundFunction: BackgroundFunction = {
  handler: 'algorithms/validate-algorithm-models',
  description:
    "Copies and validates new algorithm models: SHA-256, and their archive's paths, links and size",
  trigger: { kind: 'schedule', everyMinutes: 1 },
  // Memory buys CPU for gunzip and SHA-256, and network throughput from S3.
  sizing: { memoryMiB: 2048, timeoutSeconds: VALIDATION_TIMEOUT_SECONDS },
  permissions: {
    // The index of pending models, a lease on each, then its outcome.
    tables: { algorithmModels: ['dynamodb:UpdateItem'] },
    indexQueries: { algorithmModels: ['pendingValidation'] },
    imagingObjects: [
      { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject', 's3:GetObjectVersion'] },
      {
        prefix: modelObjectKey('*', '*'),
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [MODEL_LIMITS, INPUT_COPIES],
};
