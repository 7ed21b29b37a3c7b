/**
 * Log lines that metric filters count (`JobAlarms`): the handlers write them with these messages
 * and fields, the filters match them; neither can change one without the other.
 */
export const COUNTED_LOG_LINES = {
  /** Per queue, every 5 minutes: `jobQueue`, `runnableJobs`, `oldestRunnableSeconds`. */
  runnableWait: 'runnable jobs',
  /** Per job moved: `status`, and `failedBy` (`platform` or `algorithm`) when it failed. */
  jobMoved: 'job moved',
} as const;
