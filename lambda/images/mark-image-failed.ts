import { moveImage } from './image-store';

/**
 * Marks Failed, with a reason the user can read, an image that no conversion ended. With a
 * converter job id, only while that job holds the image, so a job that lost the image to another
 * cannot undo that one's work. Returns false when the image had already ended.
 */
export async function failUnconvertedImage(
  imageId: string,
  reason: string,
  converterJobId?: string,
): Promise<boolean> {
  return moveImage(
    imageId,
    ['Queued', 'Started'],
    { status: 'Failed', statusDetail: reason },
    converterJobId === undefined ? undefined : { converterJobId },
  );
}
