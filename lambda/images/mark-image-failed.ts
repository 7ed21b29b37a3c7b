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
  // Read again even when another delivery failed it: that one may have stopped before the job heard.
  const image = await getImage(imageId);
  if (image?.jobOutput && image.status === 'Failed') {
    await settleOutputImage({ ...image, jobOutput: image.jobOutput });
  }
  return failed;
}
