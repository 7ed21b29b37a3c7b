import type { EventBridgeEvent } from 'aws-lambda';
import { logger } from '../shared/logger';
import { BatchJobDetail, progressOf } from '../shared/jobs/job-progress';
import { jobSettings } from '../shared/jobs/job-settings';
import { releaseJobSlots } from '../shared/jobs/job-slots';
import { advanceJob } from '../shared/jobs/job-store';

const settings = jobSettings();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * EventBridge `Batch Job State Change` for the platform's queues: moves the job (named by its id)
 * forward with one conditional write. Duplicated, late or out-of-order events, and any event
 * after a terminal state, change nothing. The call that ends a job gives its slots back.
 */
export async function handler(
  event: EventBridgeEvent<'Batch Job State Change', BatchJobDetail>,
): Promise<void> {
  const detail = event.detail;
  const jobId = detail.jobName ?? '';
  logger.appendKeys({ jobId, batchJobId: detail.jobId, batchStatus: detail.status });
  if (!UUID.test(jobId)) {
    logger.warn('event for a Batch job that is not a platform job');
    return;
  }
  const progress = progressOf(detail);
  const container = detail.container ?? detail.attempts?.at(-1)?.container;
  const fields: Record<string, unknown> = {};
  if (container?.logStreamName) fields.logStreamName = container.logStreamName;
  if (detail.startedAt) fields.startedAt = new Date(detail.startedAt).toISOString();
  if (detail.stoppedAt) fields.stoppedAt = new Date(detail.stoppedAt).toISOString();

  const moved = await advanceJob(
    jobId,
    { status: progress.status, sequence: progress.sequence, statusReason: progress.reason, fields },
    { batchJobId: detail.jobId },
  );
  if (!moved) {
    logger.info('event ignored: the job is already as far or further');
    return;
  }
  logger.info('job moved', { status: progress.status });
  if (moved.releasedSlots) await releaseJobSlots(moved.job.owner, moved.job.algorithmId, settings);
}
