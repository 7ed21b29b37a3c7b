import type { RetryStrategy } from '@aws-sdk/client-batch';
import type { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';

/** What Batch reports of an attempt that ended: the job's reason, the container's, its exit code. */
export type EndedAttempt = NonNullable<BatchJobDetail['attempts']>[number];

/** Batch's reason for an attempt whose instance went away, as a spot reclaim reports it. */
export const HOST_LOST_REASON = 'Host EC2 (instance local) terminated.';

/**
 * What Batch does after an attempt that did not succeed, by the job's retry strategy: `RETRY`
 * (back to RUNNABLE) while attempts remain and the first `evaluateOnExit` rule that matches says
 * so, or when none matches; `EXIT` (FAILED) otherwise. A job without a strategy has one attempt.
 */
export function afterFailedAttempt(
  strategy: RetryStrategy | undefined,
  attemptsMade: number,
  attempt: EndedAttempt,
): 'RETRY' | 'EXIT' {
  if (attemptsMade >= (strategy?.attempts ?? 1)) return 'EXIT';
  const rule = (strategy?.evaluateOnExit ?? []).find(
    (r) =>
      matches(r.onStatusReason, attempt.statusReason) &&
      matches(r.onReason, attempt.container?.reason) &&
      matches(r.onExitCode, attempt.container?.exitCode?.toString()),
  );
  return rule?.action?.toUpperCase() === 'EXIT' ? 'EXIT' : 'RETRY';
}

/** Batch's glob: an exact match, or a prefix when the pattern ends with `*`; no pattern matches anything. */
function matches(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined) return true;
  const text = value ?? '';
  return pattern.endsWith('*') ? text.startsWith(pattern.slice(0, -1)) : text === pattern;
}
