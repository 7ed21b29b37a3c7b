import { BatchJobDetail } from '../contracts/batch-job-state-change';
import { ConversionFailureReason } from '../contracts/business-metrics';

/** Why a converter job failed: in words for the image's owner, and as a metric's category. */
export interface ConverterFailure {
  readonly description: string;
  readonly reason: ConversionFailureReason;
}

/** Batch's words for why the container stopped, made plain for the common cases. */
export function converterFailure(detail: BatchJobDetail): ConverterFailure {
  const container = detail.container ?? detail.attempts?.at(-1)?.container;
  const reason = `${detail.statusReason ?? ''} ${container?.reason ?? ''}`;
  if (/Job attempt duration exceeded timeout/i.test(reason)) {
    return { description: 'it ran past its time limit', reason: 'TimedOut' };
  }
  if (container?.exitCode === 137 || /OutOfMemory/i.test(reason)) {
    return { description: 'it ran out of memory', reason: 'OutOfMemory' };
  }
  if (
    /CannotPullContainer|CannotStartContainer|CannotCreateContainer|ResourceInitializationError/i.test(reason)
  ) {
    return { description: `it could not start (${reason.trim()})`, reason: 'CouldNotStart' };
  }
  if (container?.exitCode !== undefined) {
    return { description: `it exited with code ${container.exitCode}`, reason: 'Crashed' };
  }
  return { description: detail.statusReason || 'the job failed', reason: 'Other' };
}
