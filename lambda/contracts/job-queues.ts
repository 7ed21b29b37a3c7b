import { settingsGroup, text, wholeNumber } from './settings';

/** How many jobs may be active at once, from the platform configuration. */
export const JOB_LIMITS = settingsGroup('the active-job limits', {
  activeJobsPerUser: wholeNumber,
  activeJobsPerAlgorithm: wholeNumber,
  activeJobsTotal: wholeNumber,
});

/**
 * The Batch queues that run algorithm jobs, by name, and the queue and job definition of the
 * staging jobs that copy each job's inputs under its own folder before it runs.
 */
export const JOB_QUEUES = settingsGroup('the job queues', {
  gpuJobQueue: text,
  cpuJobQueue: text,
  inputStagingJobQueue: text,
  inputStagingJobDefinition: text,
});

/**
 * The staging job's command, from its parameters: the job whose inputs it copies. Batch
 * substitutes `Ref::` names from SubmitJob's parameters; the stager reads the job id.
 */
export const INPUT_STAGING_JOB_COMMAND: readonly string[] = ['Ref::jobId'];

/** How the staging job cuts the copy of an input larger than one part, from the configuration. */
export const INPUT_COPIES = settingsGroup('the copies of job inputs', { copyPartBytes: wholeNumber });

/** The log group whose streams hold each job's lines. */
export const JOB_LOGS = settingsGroup('the job log group', { jobLogGroup: text });
