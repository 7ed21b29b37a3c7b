import { BatchJobDetail } from '../contracts/batch-job-state-change';
import { JobStatus, TERMINAL_SEQUENCE } from './job-record';

/** The parts of a `Batch Job State Change` event's detail that move a job. */

export interface JobProgress {
  readonly status: JobStatus;
  readonly sequence: number;
  readonly reason?: string;
}

const RANK: Record<Exclude<BatchJobDetail['status'], 'SUCCEEDED' | 'FAILED'>, number> = {
  SUBMITTED: 1,
  PENDING: 1,
  RUNNABLE: 1,
  STARTING: 2,
  RUNNING: 3,
};

/**
 * Where a Batch state puts a job. Attempts that Batch has finished (spot reclaims, retries) raise
 * the sequence, so a retry's RUNNABLE counts as progress over the previous attempt's RUNNING,
 * and shows as Re-Queued.
 */
export function progressOf(detail: BatchJobDetail): JobProgress {
  const finishedAttempts = detail.attempts?.length ?? 0;
  switch (detail.status) {
    case 'SUCCEEDED':
      return { status: 'Succeeded', sequence: TERMINAL_SEQUENCE };
    case 'FAILED':
      return { status: 'Failed', sequence: TERMINAL_SEQUENCE, reason: failureReason(detail) };
    default: {
      const rank = RANK[detail.status];
      const status: JobStatus =
        rank === 1
          ? finishedAttempts > 0
            ? 'Re-Queued'
            : 'Queued'
          : rank === 2
            ? 'Provisioning'
            : 'Executing';
      return { status, sequence: finishedAttempts * 10 + rank };
    }
  }
}

/**
 * Whose failure ended a job: the platform's (AWS took or never gave the instance, the inputs were
 * not staged, the image was not pulled, the runner stopped) or the algorithm's (its exit code, its
 * memory, its time limit, its outputs). An operator hears of the platform's (`docs/operations.md`).
 */
export type FailedBy = 'platform' | 'algorithm';

export interface JobFailure {
  readonly reason: string;
  readonly failedBy: FailedBy;
}

/** Why Batch cancelled a job that never left its queue, by the reason of its time-limit action. */
const CANCELLED_IN_QUEUE: readonly [RegExp, string][] = [
  [
    /CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY/,
    "AWS had no instance for the job for as long as the platform waits (the account's vCPU quota for the instance type, or spot capacity); it was cancelled without running",
  ],
  [
    /MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT/,
    'no instance type of the queue has the memory, vCPUs or GPU the algorithm asks for; it was cancelled without running',
  ],
  [
    /MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE/,
    'the job needs more vCPUs than its queue may run at once; it was cancelled without running',
  ],
];

/** The contract's reasons: memory for exit 137, the time limit, an image that would not start. */
export function failureReason(detail: BatchJobDetail): string {
  return batchFailure(detail).reason;
}

/**
 * Why Batch failed a job, and whose failure it was. The queue's own limits (capacity, instance
 * types, vCPUs) are the platform's to change; so is Batch's attempt timeout, which fires only when
 * the runner did not end the job within the margin it has beyond the algorithm's time limit.
 */
export function batchFailure(detail: BatchJobDetail): JobFailure {
  const platform = (reason: string): JobFailure => ({ reason, failedBy: 'platform' });
  const algorithm = (reason: string): JobFailure => ({ reason, failedBy: 'algorithm' });
  const container = detail.container ?? detail.attempts?.at(-1)?.container;
  const reason = `${detail.statusReason ?? ''} ${container?.reason ?? ''}`;
  if (/JobStateTimeLimit/.test(reason)) {
    const known = CANCELLED_IN_QUEUE.find(([pattern]) => pattern.test(reason));
    if (known) return platform(known[1]);
  }
  if (/Job attempt duration exceeded timeout/i.test(reason)) return platform('time limit exceeded');
  if (container?.exitCode === 137 || /OutOfMemory/i.test(reason))
    return algorithm('the algorithm exceeded its memory limit');
  // An image that cannot be pulled or given its container is the platform's (ECR, the endpoints,
  // the instance's disk); one that will not start is the image's own (its architecture, its files).
  if (/CannotPullContainer|CannotCreateContainer/i.test(reason)) {
    return platform('the image could not be started');
  }
  if (/CannotStartContainer/i.test(reason)) return algorithm('the image could not be started');
  // The staging job that copies the inputs failed, so Batch never started the algorithm's.
  if (/Dependent Job failed/i.test(reason))
    return platform("the job's input files could not be copied for it");
  // The container's exit code is the runner's: it exits 0 whenever it recorded the algorithm's own.
  if (container?.exitCode !== undefined) {
    return platform(
      `the job runner stopped with exit code ${container.exitCode} before it recorded a result; the job's log says why`,
    );
  }
  // What is left ended no algorithm: its host terminated ("Host EC2 ... terminated") past the
  // retries, or Batch's own reason.
  return platform(detail.statusReason || 'the job failed');
}
