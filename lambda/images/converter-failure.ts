import { BatchJobDetail } from '../contracts/batch-job-state-change';

/** Batch's words for why the container stopped, made plain for the common cases. */
export function converterFailure(detail: BatchJobDetail): string {
  const container = detail.container ?? detail.attempts?.at(-1)?.container;
  const reason = `${detail.statusReason ?? ''} ${container?.reason ?? ''}`;
  if (/Job attempt duration exceeded timeout/i.test(reason)) return 'it ran past its time limit';
  if (container?.exitCode === 137 || /OutOfMemory/i.test(reason)) return 'it ran out of memory';
  if (
    /CannotPullContainer|CannotStartContainer|CannotCreateContainer|ResourceInitializationError/i.test(reason)
  ) {
    return `it could not start (${reason.trim()})`;
  }
  if (container?.exitCode !== undefined) return `it exited with code ${container.exitCode}`;
  return detail.statusReason || 'the job failed';
}
