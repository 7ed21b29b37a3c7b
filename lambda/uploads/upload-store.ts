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
