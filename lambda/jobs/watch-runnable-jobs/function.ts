import { BackgroundFunction } from '../../contracts/handler-deployment';

/**
 * Every 5 minutes, logs how long the jobs of each of the platform's Batch queues have waited
 * RUNNABLE; a metric filter on these lines feeds the alarm on jobs that wait too long.
 */
export const backgroundFunction: BackgroundFunction = {
  handler: 'jobs/watch-runnable-jobs',
  description: "Logs how long the jobs of the platform's Batch queues have waited RUNNABLE",
  trigger: { kind: 'schedule', everyMinutes: 5 },
  permissions: { watchesJobQueues: true },
};
