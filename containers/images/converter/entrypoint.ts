import { IMAGING_BUCKET } from '../../../lambda/contracts/bucket-layout';
import { CONVERSION_SCRATCH } from '../../../lambda/contracts/converter-jobs';
import { parseEnvironment } from '../../../lambda/contracts/handler-environment';
import { withInvocationMetrics } from '../../../lambda/core/business-metrics';
import { logger } from '../../../lambda/core/logger';
import { convertImage } from '../../../lambda/images/image-conversion';
import { removeConvertedUploads } from '../../../lambda/images/upload-removal';
import { converterContainer } from './container';

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The converter container: converts the upload set of the image named on the command line (the
 * job definition passes `Ref::imageId`) with the same domain code as the converter function,
 * holding the image for this Batch job. Exits non-zero when the conversion could not run, so the
 * job ends FAILED and the image is marked Failed through the job's state change event.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [imageId] = argv;
  const jobId = env.AWS_BATCH_JOB_ID;
  const problems = [
    !imageId || !IMAGE_ID.test(imageId) ? `expected an image id as the argument, got "${imageId ?? ''}"` : '',
    // Batch sets it for every job.
    jobId ? '' : 'AWS_BATCH_JOB_ID is not set',
  ].filter(Boolean);
  try {
    parseEnvironment(converterContainer, env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) {
    logger.error('the converter cannot start', { problems });
    return 2;
  }
  const { imagingBucket } = IMAGING_BUCKET.parse(env);
  const { conversionWorkDir } = CONVERSION_SCRATCH.parse(env);
  logger.appendKeys({ converterJobId: jobId });
  try {
    // Its business metrics are published as the conversion ends, before the process exits.
    await withInvocationMetrics(() =>
      convertImage(imageId, imagingBucket, {
        converterJobId: jobId,
        workRoot: conversionWorkDir,
        // The job holds no queue message, and its network reaches S3 and DynamoDB but not SQS: it
        // removes the uploads itself once the image is recorded. A failure here leaves them, still
        // counted in the quota, and does not fail the converted image.
        removeUploads: (id) =>
          removeConvertedUploads(id, imagingBucket).then(
            () => undefined,
            (err: Error) => logger.warn('raw uploads not removed; they stay, still counted', { error: err }),
          ),
      }),
    );
    return 0;
  } catch (err) {
    logger.error('conversion failed', { error: err as Error });
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
