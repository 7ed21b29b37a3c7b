import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { s3 } from '../../core/aws-clients';
import { IMAGING_BUCKET, jobResultKey } from '../../contracts/bucket-layout';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { itemSize, MAX_ITEM_BYTES } from '../../contracts/dynamodb-item-limits';
import { JobManifest } from '../job-manifest';
import { JOB_ITEM_RESERVE_BYTES, PARSING_OUTPUTS, PARSING_OUTPUTS_SEQUENCE } from '../job-record';
import { jobOutcome } from '../job-outcome';
import { queueConversions, registerOutputImages } from '../job-output-images';
import { FailedBy, progressOf } from '../job-progress';
import { BatchJobStateChange } from '../../contracts/batch-job-state-change';
import { COUNTED_LOG_LINES } from '../../contracts/counted-log-lines';
import { moveJob } from '../job-move';
import { getJob, recordLogStream } from '../job-store';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { imagingBucket } = IMAGING_BUCKET.read();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * EventBridge `Batch Job State Change` for the platform's queues: moves the job (named by its id)
 * forward with one conditional write. Duplicated, late or out-of-order events, and any event
 * after a terminal state, change nothing. A terminal event ends the job as its signed result
 * record says (or Batch's reason when there is none), with its outputs checked against the
 * interface; a job with image outputs waits in `Parsing outputs` until the converter has settled
 * them (see job-output-settlement.ts). The call that ends a job gives its slots back.
 */
async function moveJobOnEvent(event: BatchJobStateChange): Promise<void> {
  const detail = event.detail;
  const jobId = detail.jobName ?? '';
  logger.appendKeys({ jobId, batchJobId: detail.jobId, batchStatus: detail.status });
  if (!UUID.test(jobId)) {
    logger.warn('event for a Batch job that is not a platform job');
    return;
  }
  let progress = progressOf(detail);
  const fields: Record<string, unknown> = {};
  let failedBy: FailedBy | undefined;
  // RUNNING names the container's log stream already, so the log can be read while the job runs.
  const logStreamName = (detail.container ?? detail.attempts?.at(-1)?.container)?.logStreamName;
  // An event that does not move the job still gives it the log stream it lacks.
  const keepLogStream = async () => {
    if (logStreamName) await recordLogStream(jobId, detail.jobId, logStreamName);
  };
  let pendingImages: string[] = [];
  if (progress.status === 'Succeeded' || progress.status === 'Failed') {
    const job = await getJob(jobId);
    if (job?.status === PARSING_OUTPUTS) {
      // A repeated event: the delivery that recorded the pending images may have stopped before
      // it queued them.
      logger.info('event repeated while the outputs are parsed: their conversions queued again');
      await queueConversions(job.pendingImages ?? []);
      return;
    }
    if (!job || job.sequence >= progress.sequence) {
      logger.info('event ignored: the job has ended or does not exist');
      if (job) await keepLogStream();
      return;
    }
    const manifest = JSON.parse((await read(job.inputManifestKey)) ?? 'null') as JobManifest;
    // JSON outputs fill what the job's item has left once its other fields are at their largest.
    const room = MAX_ITEM_BYTES - JOB_ITEM_RESERVE_BYTES - itemSize(job);
    const outcome = await jobOutcome(
      detail,
      job,
      manifest,
      { read, head },
      await read(jobResultKey(jobId)),
      room,
    );
    progress = { ...progress, status: outcome.status, reason: outcome.reason };
    failedBy = outcome.failedBy;
    const outputs = await registerOutputImages(
      job,
      manifest?.interface.outputs ?? [],
      outcome.outputs,
      outcome.stored ?? [],
      outcome.dataFiles,
    );
    fields.outputs = outputs;
    pendingImages = outputs.flatMap((output) => (output.image ? [output.image] : []));
    if (pendingImages.length > 0) {
      progress = { status: PARSING_OUTPUTS, sequence: PARSING_OUTPUTS_SEQUENCE };
      fields.pendingImages = new Set(pendingImages);
    }
  }
  if (logStreamName) fields.logStreamName = logStreamName;
  if (detail.startedAt) fields.startedAt = new Date(detail.startedAt).toISOString();
  if (detail.stoppedAt) fields.stoppedAt = new Date(detail.stoppedAt).toISOString();

  const moved = await moveJob(
    jobId,
    { status: progress.status, sequence: progress.sequence, statusReason: progress.reason, fields },
    { batchJobId: detail.jobId },
  );
  if (!moved) {
    logger.info('event ignored: the job is already as far or further');
    await keepLogStream();
    return;
  }
  // A metric filter counts the platform's failures on this line (JobAlarms).
  logger.info(COUNTED_LOG_LINES.jobMoved, {
    status: progress.status,
    failedBy,
    // The platform's reasons are its own words; an algorithm's may quote its output.
    ...(failedBy === 'platform' && { statusReason: progress.reason }),
  });
  await queueConversions(pendingImages);
}

/** An object of the imaging bucket as text, or undefined when there is none. */
async function read(key: string): Promise<string | undefined> {
  try {
    const object = await s3().send(new GetObjectCommand({ Bucket: imagingBucket, Key: key }));
    return await object.Body!.transformToString();
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}

/**
 * The first bytes of an object of the imaging bucket, or undefined when there is none. Zero
 * bytes asks for the whole object: S3 refuses a range of an empty one.
 */
async function head(key: string, bytes: number): Promise<Buffer | undefined> {
  try {
    const object = await s3().send(
      new GetObjectCommand({
        Bucket: imagingBucket,
        Key: key,
        ...(bytes > 0 && { Range: `bytes=0-${bytes - 1}` }),
      }),
    );
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}

export const handler = backgroundHandler(moveJobOnEvent);
