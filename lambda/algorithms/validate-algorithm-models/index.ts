import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { parseEnvironment } from '../../contracts/handler-environment';
import { INPUT_COPIES } from '../../contracts/job-queues';
import { MODEL_LIMITS } from '../../contracts/model-limits';
import { s3 } from '../../core/aws-clients';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { copyObject } from '../../core/object-copy';
import { AlgorithmModelRecord, finishValidation, leaseValidation, pendingModels } from '../algorithm-models';
import { ModelArchiveLimits, ModelArchiveRefusal, readModelArchive } from '../model-archive';
import { backgroundFunction, VALIDATION_TIMEOUT_SECONDS } from './function';

parseEnvironment(backgroundFunction);
const { modelEntries, modelExtractedBytes } = MODEL_LIMITS.read();
const { copyPartBytes } = INPUT_COPIES.read();
const { imagingBucket } = IMAGING_BUCKET.read();

const limits: ModelArchiveLimits = {
  entries: modelEntries,
  extractedBytes: modelExtractedBytes,
  names: { entries: 'limits.modelEntries', extractedBytes: 'limits.modelExtractedBytes' },
};
/** Runs that may take up one model before it fails as one that cannot be read in time. */
const MAX_ATTEMPTS = 3;
/** Pending models read at once. */
const BATCH = 10;
/** Time kept back at the end of a run, so that the last model's outcome is still written. */
const MARGIN_MS = 60_000;
/** What S3 answers when the upload's object is not there, or not as it was pinned. */
const SOURCE_GONE = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion', 'PreconditionFailed']);

/**
 * Runs on a schedule: takes the models waiting for validation one at a time (a lease, so that
 * overlapping runs never read one model twice at once), copies each one's upload to its own key,
 * and reads that copy once. A model ends Ready with its SHA-256 and counts, or Failed with the
 * reason, and then its copy is removed (the upload is left as it was). An error of S3 or
 * DynamoDB leaves the model pending for a later run, until MAX_ATTEMPTS.
 */
async function validatePendingModels(): Promise<{ validated: number }> {
  const started = Date.now();
  const deadline = started + VALIDATION_TIMEOUT_SECONDS * 1000 - MARGIN_MS;
  // A lease outlives this run, so a run that Lambda stopped leaves its model to a later one.
  const leaseUntil = started + VALIDATION_TIMEOUT_SECONDS * 1000 + MARGIN_MS;
  let validated = 0;
  for (let progressed = true; progressed && Date.now() < deadline;) {
    progressed = false;
    for (const model of await pendingModels(BATCH)) {
      if (Date.now() >= deadline) break;
      const attempt = await leaseValidation(model, leaseUntil);
      if (attempt === undefined) continue;
      progressed = true;
      try {
        await validate(model, attempt);
        validated++;
      } catch (err) {
        logger.warn('a model could not be validated this time', { modelId: model.id, error: err as Error });
      }
    }
  }
  return { validated };
}

async function validate(model: AlgorithmModelRecord, attempt: number): Promise<void> {
  if (attempt > MAX_ATTEMPTS) {
    return refuse(model, `the model could not be read in ${MAX_ATTEMPTS} attempts`);
  }
  try {
    await copyObject(s3(), {
      bucket: imagingBucket,
      source: model.source,
      key: model.objectKey,
      partBytes: copyPartBytes,
    });
  } catch (err) {
    if (SOURCE_GONE.has((err as Error).name)) {
      return refuse(
        model,
        `the file of upload ${model.uploadId} is gone or changed since the model was created`,
      );
    }
    throw err;
  }
  const object = await s3().send(new GetObjectCommand({ Bucket: imagingBucket, Key: model.objectKey }));
  try {
    const summary = await readModelArchive(object.Body as Readable, limits);
    if (summary.compressedBytes !== model.sizeBytes) {
      return refuse(model, `the model's copy has ${summary.compressedBytes} bytes, not ${model.sizeBytes}`);
    }
    await finishValidation(model, {
      state: 'Ready',
      sha256: summary.sha256,
      entries: summary.entries,
      extractedBytes: summary.extractedBytes,
    });
    logger.info('model ready', { modelId: model.id, sha256: summary.sha256 });
  } catch (err) {
    if (err instanceof ModelArchiveRefusal) return refuse(model, err.message);
    throw err;
  }
}

async function refuse(model: AlgorithmModelRecord, reason: string): Promise<void> {
  await finishValidation(model, { state: 'Failed', reason });
  await s3().send(new DeleteObjectCommand({ Bucket: imagingBucket, Key: model.objectKey }));
  logger.info('model refused', { modelId: model.id, reason });
}

export const handler = backgroundHandler(validatePendingModels);
