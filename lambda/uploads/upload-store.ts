import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';
import { UploadRecord, UploadStatus } from './upload-record';

/** Stores a new upload; its id is fresh, so an existing item means a bug, not a retry. */
export async function putUpload(record: UploadRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('uploads'),
      Item: record,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** The caller's upload; someone else's is as absent as one that never existed. */
export async function getOwnedUpload(id: string, owner: string): Promise<UploadRecord> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('uploads'), Key: { id } }));
  if (!Item || Item.owner !== owner) throw notFound(`upload ${id}`);
  return Item as UploadRecord;
}

/**
 * Moves a Pending upload of `owner` to `status`. The write is conditional, so of two racing
 * calls only one wins; the other gets a 409.
 */
export async function finishUpload(
  record: UploadRecord,
  status: Exclude<UploadStatus, 'Pending'>,
  at: string,
): Promise<UploadRecord> {
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id: record.id },
        UpdateExpression:
          'SET #status = :status, finishedAt = :at' + (status === 'Completed' ? ', completedAt = :at' : ''),
        ConditionExpression: '#owner = :owner AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':status': status,
          ':at': at,
          ':owner': record.owner,
          ':pending': 'Pending',
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as UploadRecord;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      throw conflict(`upload ${record.id} is no longer Pending`);
    }
    throw err;
  }
}

/**
 * Marks the caller's Completed uploads as the files of `imageId`, one conditional write each,
 * so an upload can belong to one image only. If any cannot be claimed, those already claimed
 * are released and the reason names the upload.
 */
export async function claimUploadsForImage(uploadIds: readonly string[], owner: string, imageId: string) {
  const claimed: UploadRecord[] = [];
  try {
    for (const id of uploadIds) {
      try {
        const { Attributes } = await dynamoDb().send(
          new UpdateCommand({
            TableName: tableName('uploads'),
            Key: { id },
            UpdateExpression: 'SET imageId = :imageId',
            ConditionExpression:
              '#owner = :owner AND #status = :completed AND attribute_not_exists(imageId) AND attribute_not_exists(modelId) AND attribute_not_exists(#build)',
            ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status', '#build': 'build' },
            ExpressionAttributeValues: { ':imageId': imageId, ':owner': owner, ':completed': 'Completed' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        claimed.push(Attributes as UploadRecord);
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        const upload = await getOwnedUpload(id, owner);
        if (upload.status !== 'Completed') {
          throw conflict(`upload ${id} is ${upload.status}; only Completed uploads become images`);
        }
        if (upload.modelId !== undefined)
          throw conflict(`upload ${id} is already the model ${upload.modelId}`);
        if (upload.build !== undefined)
          throw conflict(`upload ${id} is the context of build ${upload.build.id}`);
        throw conflict(`upload ${id} already belongs to image ${upload.imageId}`);
      }
    }
    return claimed;
  } catch (err) {
    await releaseUploadsFromImage(
      claimed.map((u) => u.id),
      imageId,
    );
    throw err;
  }
}

/** Undoes `claimUploadsForImage` for the uploads that `imageId` holds. */
export async function releaseUploadsFromImage(uploadIds: readonly string[], imageId: string): Promise<void> {
  for (const id of uploadIds) {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id },
        UpdateExpression: 'REMOVE imageId',
        ConditionExpression: 'imageId = :imageId',
        ExpressionAttributeValues: { ':imageId': imageId },
      }),
    );
  }
}
