import { settleOutputImage } from '../jobs/job-output-settlement';
import { getImage, moveImage } from './image-store';

/**
 * Marks Failed, with a reason the user can read, an image that no conversion ended. With a
 * converter job id, only while that job holds the image, so a job that lost the image to another
 * cannot undo that one's work. An algorithm's output image then fails its job (see
 * `settleOutputImage`). Returns false when the image had already ended.
 */
export async function failUnconvertedImage(
  imageId: string,
  reason: string,
  converterJobId?: string,
): Promise<boolean> {
  const failed = await moveImage(
    imageId,
    ['Queued', 'Started'],
    { status: 'Failed', statusDetail: reason },
    converterJobId === undefined ? undefined : { converterJobId },
  );
  // Settled whatever ended the image: the worker that ended it may have stopped before its job
  // heard (a converter container that converted the image, then failed).
  const image = await getImage(imageId);
  if (image?.jobOutput) await settleOutputImage({ ...image, jobOutput: image.jobOutput });
  return failed;
}
