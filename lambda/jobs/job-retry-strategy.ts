import type { RetryStrategy } from '@aws-sdk/client-batch';

/**
 * What Batch does when a job attempt ends: a spot reclaim (Batch's status reason starts with
 * `Host EC2`) runs the job again; anything else, the algorithm's own failure or a timeout
 * included, ends the job. Rules are checked in order and the first match wins. Every job
 * definition carries it, the one the compute stack deploys and those registered per algorithm
 * version, so a job retries the same way whichever definition runs it.
 */
export const JOB_RETRY_STRATEGY = {
  // A job outlives two reclaims; a third ends it rather than queueing forever on scarce spot capacity.
  attempts: 3,
  evaluateOnExit: [
    { onStatusReason: 'Host EC2*', action: 'RETRY' },
    { onReason: '*', action: 'EXIT' },
  ],
} as const satisfies RetryStrategy;
