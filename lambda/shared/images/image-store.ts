import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { notFound } from '../api/api-error';
import { dynamoDb } from '../aws-clients';
import { tableName } from '../tables';
import { ImageRecord } from './image-record';

export async function putImage(record: ImageRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('images'),
      Item: record,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** Removes an image that was never queued, when its creation is undone. */
export async function deleteUnqueuedImage(id: string): Promise<void> {
  await dynamoDb().send(new DeleteCommand({ TableName: tableName('images'), Key: { id } }));
}

/** An image the caller may see; others are as absent as images that never existed. */
export async function getVisibleImage(id: string, userId: string): Promise<ImageRecord> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('images'), Key: { id } }));
  if (!Item || Item.owner !== userId) throw notFound(`image ${id}`);
  return Item as ImageRecord;
}
