import { settingsGroup, text, wholeNumber } from './settings';

/** How many jobs may be active at once, from the platform configuration. */
export const JOB_LIMITS = settingsGroup('the active-job limits', {
  activeJobsPerUser: wholeNumber,
  activeJobsPerAlgorithm: wholeNumber,
  activeJobsTotal: wholeNumber,
});

/** The Batch queues that run algorithm jobs, by name. */
export const JOB_QUEUES = settingsGroup('the job queues', { gpuJobQueue: text, cpuJobQueue: text });

/** The log group whose streams hold each job's lines. */
export const JOB_LOGS = settingsGroup('the job log group', { jobLogGroup: text });
