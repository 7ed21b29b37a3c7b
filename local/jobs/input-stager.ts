import { S3Client } from '@aws-sdk/client-s3';
import { main } from '../../containers/jobs/input-stager/entrypoint';
import { INPUT_STAGING_JOB_COMMAND } from '../../lambda/contracts/job-queues';
import { LocalBatchJob, LocalJobRunner } from '../services/batch';

/**
 * The input stager for local mode: the same entrypoint, with the environment its job definition
 * gives the container and the command Batch builds from the job's parameters, run in this process
 * (its copies happen inside S3; a process per job would only cost time), with this process's client.
 */
export function localInputStager(options: {
  readonly environment: Readonly<Record<string, string>>;
  readonly s3: S3Client;
}): LocalJobRunner {
  return async (job: LocalBatchJob) => ({
    exitCode: await main(commandOf(job), { ...options.environment, AWS_BATCH_JOB_ID: job.jobId }, options.s3),
  });
}

/** The job definition's command with `Ref::` names replaced by the job's parameters, as Batch does. */
function commandOf(job: LocalBatchJob): string[] {
  return INPUT_STAGING_JOB_COMMAND.map((part) =>
    part.startsWith('Ref::') ? (job.parameters[part.slice('Ref::'.length)] ?? part) : part,
  );
}
