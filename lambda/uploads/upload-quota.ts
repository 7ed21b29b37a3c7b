import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { limitExceeded } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

/**
 * Bytes a user holds in uploads, counted on one item per user. Reservation is one conditional
 * write, so concurrent uploads can never together pass the quota.
 */
export async function reserveUploadBytes(userId: string, bytes: number, quota: number): Promise<void> {
  if (bytes > quota) {
    throw limitExceeded(`the upload quota is ${quota} bytes; this file alone has ${bytes}`);
  }
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('usage'),
        Key: { userId },
        UpdateExpression: 'ADD uploadBytes :bytes',
        ConditionExpression: 'attribute_not_exists(uploadBytes) OR uploadBytes <= :room',
        ExpressionAttributeValues: { ':bytes': bytes, ':room': quota - bytes },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const used = await uploadBytesInUse(userId);
    throw limitExceeded(
      `the upload quota is ${quota} bytes and ${used} are in use; this file needs ${bytes} more`,
    );
  }
}

/** Gives back what an aborted or removed upload held. */
export async function releaseUploadBytes(userId: string, bytes: number): Promise<void> {
  await dynamoDb().send(
    new UpdateCommand({
      TableName: tableName('usage'),
      Key: { userId },
      UpdateExpression: 'ADD uploadBytes :negative',
      ExpressionAttributeValues: { ':negative': -bytes },
    }),
  );
}

export async function uploadBytesInUse(userId: string): Promise<number> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('usage'), Key: { userId } }));
  return (Item?.uploadBytes as number | undefined) ?? 0;
}
