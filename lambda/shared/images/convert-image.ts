import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { dynamoDb, s3 } from '../aws-clients';
import { CONVERSION_TAG, IMAGES_PREFIX } from '../bucket-layout';
import { convertImageFiles } from '../conversion/convert-image-files';
import { logger } from '../logger';
import { tableName } from '../tables';
import { releaseUploadBytes } from '../uploads/upload-quota';
import { UploadRecord } from '../uploads/upload-record';
import { ImageRecord } from './image-record';
import { getImage, moveImage, putImage } from './image-store';

/**
 * Converts the upload set of one image: downloads its files, converts them, stores each result
 * under `images/<id>/`, and records Succeeded with metadata and per-file errors, or Failed with
 * the reasons. Raw uploads are deleted only after success. A repeated message for an image that
 * already ended does nothing. Errors other than rejected files propagate, so the queue retries.
 */
export async function convertImage(imageId: string, bucket: string): Promise<void> {
  logger.appendKeys({ imageId });
  const image = await getImage(imageId);
  if (!image) {
    logger.warn('conversion message for an image that does not exist');
    return;
  }
  if (!(await moveImage(imageId, ['Queued', 'Started'], { status: 'Started', statusDetail: 'Converting' }))) {
    logger.info('image already converted or failed; message ignored', { status: image.status });
    return;
  }

  const uploads = await Promise.all(image.files.map((file) => uploadOf(file.uploadId)));
  const contents = new Map<string, Buffer>();
  for (const upload of uploads) {
    const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: upload.objectKey }));
    contents.set(upload.filename, Buffer.from(await object.Body!.transformToByteArray()));
  }
  const result = await convertImageFiles(
    uploads.map((u) => ({ name: u.filename, load: () => contents.get(u.filename)! })),
  );
  const errors = result.rejected.map(({ filename, reason }) => ({ filename, reason }));

  if (result.images.length === 0) {
    await moveImage(imageId, ['Started'], {
      status: 'Failed',
      statusDetail: 'No image could be made from the files; see errors',
      errors,
    });
    logger.info('conversion failed', { rejected: errors.length });
    return;
  }

  const [first, ...others] = result.images;
  const siblings = others.map((output) => ({ id: randomUUID(), name: output.name }));
  const stored = await Promise.all(
    result.images.map(async (output, i) => {
      const id = i === 0 ? imageId : siblings[i - 1].id;
      const key = `${IMAGES_PREFIX}${id}/${output.name}`;
      await s3().send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: output.content,
          ContentType: 'application/octet-stream',
        }),
      );
      return key;
    }),
  );
  const now = new Date().toISOString();
  for (const [i, output] of others.entries()) {
    const sibling: ImageRecord = {
      ...image,
      id: siblings[i].id,
      name: output.name,
      status: 'Succeeded',
      statusDetail: 'Converted',
      errors,
      metadata: output.metadata,
      outputKey: stored[i + 1],
      siblings: [{ id: imageId, name: first.name }, ...siblings.filter((s) => s.id !== siblings[i].id)],
      createdAt: now,
      updatedAt: now,
    };
    await putImage(sibling);
  }
  await moveImage(imageId, ['Started'], {
    status: 'Succeeded',
    statusDetail: 'Converted',
    errors,
    metadata: first.metadata,
    outputKey: stored[0],
    siblings,
  });
  logger.info('image converted', { outputs: result.images.length, rejected: errors.length });
  await removeRawUploads(uploads, bucket);
}

async function uploadOf(uploadId: string): Promise<UploadRecord> {
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('uploads'), Key: { id: uploadId } }),
  );
  if (!Item) throw new Error(`upload ${uploadId} of the image is missing`);
  return Item as UploadRecord;
}

/**
 * The raw files have served their purpose: tag them for the bucket's lifecycle rule first, so
 * they expire even if what follows fails, then delete them and give their bytes back to the
 * quota. A failure here never undoes the conversion.
 */
async function removeRawUploads(uploads: readonly UploadRecord[], bucket: string): Promise<void> {
  for (const upload of uploads) {
    try {
      await s3().send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: upload.objectKey,
          Tagging: { TagSet: [{ Key: CONVERSION_TAG.key, Value: CONVERSION_TAG.succeeded }] },
        }),
      );
      await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: upload.objectKey }));
      const { Attributes } = await dynamoDb().send(
        new UpdateCommand({
          TableName: tableName('uploads'),
          Key: { id: upload.id },
          UpdateExpression: 'SET rawDeleted = :true',
          ConditionExpression: 'attribute_not_exists(rawDeleted)',
          ExpressionAttributeValues: { ':true': true },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (Attributes) await releaseUploadBytes(upload.owner, upload.size);
    } catch (err) {
      logger.warn('raw upload not removed; the lifecycle rule will', {
        uploadId: upload.id,
        error: err as Error,
      });
    }
  }
}
