import { S3Client } from '@aws-sdk/client-s3';
import { IMAGING_BUCKET } from '../../../lambda/contracts/bucket-layout';
import { parseEnvironment } from '../../../lambda/contracts/handler-environment';
import { INPUT_COPIES } from '../../../lambda/contracts/job-queues';
import { s3 } from '../../../lambda/core/aws-clients';
import { logger } from '../../../lambda/core/logger';
import { stageJobInputs } from '../../../lambda/jobs/job-input-staging';
import { inputStagerContainer } from './container';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The input stager: copies the inputs of the job named on the command line (the job definition
 * passes `Ref::jobId`) under the job's folder. The algorithm's Batch job depends on this one, so
 * it starts only once this exits 0; a non-zero exit fails it, and the job with it.
 */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  /** Local mode runs the stager in its own process, with its own client. */
  client: S3Client = s3(),
): Promise<number> {
  const [jobId] = argv;
  const problems = [
    !jobId || !JOB_ID.test(jobId) ? `expected a job id as the argument, got "${jobId ?? ''}"` : '',
  ].filter(Boolean);
  try {
    parseEnvironment(inputStagerContainer, env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) {
    logger.error('the input stager cannot start', { problems });
    return 2;
  }
  const { imagingBucket } = IMAGING_BUCKET.parse(env);
  const { copyPartBytes } = INPUT_COPIES.parse(env);
  try {
    const bytes = await stageJobInputs(client, imagingBucket, jobId, { partBytes: copyPartBytes });
    logger.info('inputs staged', { jobId, bytes });
    return 0;
  } catch (err) {
    logger.error('the inputs could not be staged', { jobId, error: err as Error });
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
