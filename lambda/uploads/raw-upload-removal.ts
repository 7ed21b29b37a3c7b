import { DeleteObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CONVERSION_TAG } from '../contracts/bucket-layout';
import { tableName } from '../contracts/tables';
import { dynamoDb, s3 } from '../core/aws-clients';
import { logger } from '../core/logger';
import { releaseUploadBytes } from './upload-quota';
import { UploadRecord } from './upload-record';

/**
 * A raw upload has served its purpose (its image is converted, its build context has the
 * pipeline's own copy): tag it for the bucket's lifecycle rule first, so it expires even if what
 * follows fails, then delete it and give its bytes back to the quota, once. A failure here is
 * logged and never undoes what the upload served.
 */
export async function removeRawUpload(upload: UploadRecord, bucket: string): Promise<void> {
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
