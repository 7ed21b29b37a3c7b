import { convertImage } from '../../../lambda/images/image-conversion';
import { logger } from '../../../lambda/core/logger';

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
  const bucket = env.IMAGING_BUCKET;
  const problems = [
    !imageId || !IMAGE_ID.test(imageId) ? `expected an image id as the argument, got "${imageId ?? ''}"` : '',
    jobId ? '' : 'AWS_BATCH_JOB_ID is not set',
    bucket ? '' : 'IMAGING_BUCKET is not set',
  ].filter(Boolean);
  if (problems.length > 0) {
    logger.error('the converter cannot start', { problems });
    return 2;
  }
  logger.appendKeys({ converterJobId: jobId });
  try {
    await convertImage(imageId, bucket!, { converterJobId: jobId, workRoot: env.CONVERSION_WORK_DIR });
    return 0;
  } catch (err) {
    logger.error('conversion failed', { error: err as Error });
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
