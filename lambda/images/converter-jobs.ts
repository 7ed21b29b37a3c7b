import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { CONVERTER_JOBS } from '../contracts/converter-jobs';
import { Settings } from '../contracts/settings';
import { logger } from '../core/logger';
import { ImageRecord } from './image-record';
import { moveImage } from './image-store';

export const CONTAINER_QUEUED_DETAIL =
  'Waiting for the converter container, which takes large sets, pictures and slides';

let batchClient: BatchClient | undefined;

/**
 * Hands an image to the converter container: one Batch job named by the image id, with the image
 * as its parameter, recorded on the image by a conditional write. An image that already names a
 * job gets no second one; if a retry submits again before the first job is recorded, only the job
 * that the image names, or that claims it first, may write (see `moveImage`'s guard).
 */
export async function submitConverterJob(
  image: ImageRecord,
  settings: Settings<typeof CONVERTER_JOBS.shape>,
  why: string,
): Promise<void> {
  if (image.converterJobId) {
    logger.info('image already with the converter container', { converterJobId: image.converterJobId });
    return;
  }
  batchClient ??= new BatchClient({});
  const submitted = await batchClient.send(
    new SubmitJobCommand({
      jobName: image.id,
      jobQueue: settings.converterJobQueue,
      jobDefinition: settings.converterJobDefinition,
      parameters: { imageId: image.id },
    }),
  );
  const recorded = await moveImage(
    image.id,
    ['Queued', 'Started'],
    { status: image.status, statusDetail: CONTAINER_QUEUED_DETAIL, converterJobId: submitted.jobId },
    { converterJobId: null },
  );
  logger.info('image sent to the converter container', { converterJobId: submitted.jobId, why, recorded });
}
