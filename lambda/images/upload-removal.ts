import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { uploadObjectKey } from '../contracts/bucket-layout';
import { tableName } from '../contracts/tables';
import { dynamoDb, s3 } from '../core/aws-clients';
import { settleBounded } from '../core/bounded-work';
import { logger } from '../core/logger';
import { releaseUploadBytes } from '../uploads/upload-quota';
import { ImageFile, readImageFiles } from './image-files';
import { getImage } from './image-store';

/** DeleteObjects takes at most 1,000 keys a call. */
const KEYS_PER_DELETE = 1000;
/**
 * Uploads marked removed at once, each its own conditional write. Few: the removal is in no hurry,
 * and in local mode the one DynamoDB stand-in would otherwise make the next image's writes queue
 * behind hundreds of marks.
 */
const MARKS_IN_FLIGHT = 4;

/**
 * Deletes the raw uploads of a converted image and gives their bytes back to the owner's quota.
 * It runs on its own, after the conversion released its queue message (the converter function
 * queues it as a message of its own; the converter container, which holds no message, runs it
 * when it is done), so it never delays another image or a job.
 *
 * Per 1,000 uploads: one DeleteObjects call, then each upload is marked removed with a conditional
 * write that only one removal wins, then the bytes of those this removal won return to the quota
 * in one write, once they no longer count in S3. Run twice, or side by side, it deletes nothing
 * twice and returns no byte twice. If returning the bytes fails, the marks it made are taken back,
 * so that the next try returns them. Returns the number of uploads it removed.
 */
export async function removeConvertedUploads(imageId: string, bucket: string): Promise<number> {
  const image = await getImage(imageId);
  if (!image || image.status !== 'Succeeded' || image.jobOutput || image.uploadsRemovedAt) {
    logger.info('no uploads to remove', { imageId, status: image?.status });
    return 0;
  }
  const files = await readImageFiles(image);
  const removal = randomUUID();
  let removed = 0;
  for (let i = 0; i < files.length; i += KEYS_PER_DELETE) {
    const batch = files.slice(i, i + KEYS_PER_DELETE);
    await deleteObjects(
      bucket,
      batch.map((file) => uploadObjectKey(image.owner, file.uploadId)),
    );
    const marks = await settleBounded(batch, MARKS_IN_FLIGHT, (file) => markRemoved(file, imageId, removal));
    const won = batch.filter((_, k) => {
      const mark = marks[k];
      return mark?.status === 'fulfilled' && mark.value;
    });
    try {
      const failure = marks.find((o): o is PromiseRejectedResult => o?.status === 'rejected');
      if (failure) throw failure.reason;
      const bytes = won.reduce((sum, file) => sum + file.size, 0);
      if (bytes > 0) await releaseUploadBytes(image.owner, bytes);
    } catch (err) {
      await settleBounded(won, MARKS_IN_FLIGHT, (file) => unmarkRemoved(file, removal));
      throw err;
    }
    removed += won.length;
  }
  await dynamoDb().send(
    new UpdateCommand({
      TableName: tableName('images'),
      Key: { id: imageId },
      UpdateExpression: 'SET uploadsRemovedAt = :now',
      ExpressionAttributeValues: { ':now': new Date().toISOString() },
    }),
  );
  logger.info('raw uploads removed', { imageId, removed, files: files.length });
  return removed;
}

async function deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
  const { Errors = [] } = await s3().send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    }),
  );
  // A key that is already gone is no error to S3; anything listed here is still there.
  if (Errors.length > 0) {
    throw new Error(
      `S3 kept ${Errors.length} of ${keys.length} raw uploads, the first ${Errors[0].Key}: ${Errors[0].Code} ${Errors[0].Message ?? ''}`,
    );
  }
}

/** Marks one upload of the image removed, for this removal; false when another removal did. */
async function markRemoved(file: ImageFile, imageId: string, removal: string): Promise<boolean> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id: file.uploadId },
        UpdateExpression: 'SET rawDeleted = :removal',
        ConditionExpression: 'imageId = :imageId AND attribute_not_exists(rawDeleted)',
        ExpressionAttributeValues: { ':removal': removal, ':imageId': imageId },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** Takes back this removal's mark; one that cannot be taken back leaves its bytes counted, and is logged. */
async function unmarkRemoved(file: ImageFile, removal: string): Promise<void> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id: file.uploadId },
        UpdateExpression: 'REMOVE rawDeleted',
        ConditionExpression: 'rawDeleted = :removal',
        ExpressionAttributeValues: { ':removal': removal },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return;
    logger.error('upload left marked removed with its bytes still counted', {
      uploadId: file.uploadId,
      error: err as Error,
    });
  }
}
