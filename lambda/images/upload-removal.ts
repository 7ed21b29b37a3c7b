import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { uploadObjectKey } from '../contracts/bucket-layout';
import { tableName } from '../contracts/tables';
import { dynamoDb, s3 } from '../core/aws-clients';
import { logger } from '../core/logger';
import { releaseUploadBytes } from '../uploads/upload-quota';
import { readImageFiles } from './image-files';
import { getImage } from './image-store';

/** DeleteObjects takes at most 1,000 keys a call. */
const KEYS_PER_DELETE = 1000;

/**
 * Deletes the raw uploads of a converted image and gives their bytes back to the owner's quota.
 * It runs on its own, after the conversion released its queue message (the converter function
 * queues it as a message of its own; the converter container, which holds no message, runs it
 * when it is done), so it never delays another image or a job.
 *
 * Per 1,000 uploads: one DeleteObjects call, then one conditional write on the image that owns the
 * files marks that batch removed, which only one removal wins, then the winner returns the batch's
 * bytes to the quota in one write, once they no longer count in S3. Run twice, or side by side, it
 * deletes nothing twice and returns no byte twice. If returning the bytes fails, the mark is taken
 * back, so that the next try returns them. Returns the number of uploads it removed.
 */
export async function removeConvertedUploads(imageId: string, bucket: string): Promise<number> {
  const image = await getImage(imageId);
  if (!image || image.status !== 'Succeeded' || image.jobOutput || image.uploadsRemovedAt) {
    logger.info('no uploads to remove', { imageId, status: image?.status });
    return 0;
  }
  const files = await readImageFiles(image);
  // Siblings share the file list of their set's first image: the marks live there, once.
  const owningImage = image.filesOf ?? image.id;
  let removed = 0;
  for (let i = 0; i < files.length; i += KEYS_PER_DELETE) {
    const batch = files.slice(i, i + KEYS_PER_DELETE);
    await deleteObjects(
      bucket,
      batch.map((file) => uploadObjectKey(image.owner, file.uploadId)),
    );
    const batchNumber = i / KEYS_PER_DELETE;
    if (!(await markBatch(owningImage, batchNumber, 'ADD'))) continue;
    try {
      const bytes = batch.reduce((sum, file) => sum + file.size, 0);
      if (bytes > 0) await releaseUploadBytes(image.owner, bytes);
    } catch (err) {
      // Only the removal that won the mark gets here, so the mark it takes back is its own.
      await markBatch(owningImage, batchNumber, 'DELETE').catch((undo: Error) =>
        logger.error('upload batch left marked removed with its bytes still counted', {
          owningImage,
          batchNumber,
          error: undo,
        }),
      );
      throw err;
    }
    removed += batch.length;
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

/**
 * Adds batch `n` to the image's removed batches, unless a removal did already (false then); or
 * takes it out again. One conditional write however many uploads the batch holds.
 */
async function markBatch(imageId: string, n: number, change: 'ADD' | 'DELETE'): Promise<boolean> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('images'),
        Key: { id: imageId },
        UpdateExpression: `${change} removedUploadBatches :batch`,
        ConditionExpression:
          change === 'ADD' ? 'NOT contains(removedUploadBatches, :n)' : 'contains(removedUploadBatches, :n)',
        ExpressionAttributeValues: { ':batch': new Set([n]), ':n': n },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
