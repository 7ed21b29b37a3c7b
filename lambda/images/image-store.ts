import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';
import { ImageRecord, ImageStatus } from './image-record';

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

/** Removes image records that must not stay: the siblings of a set whose image failed. */
export async function deleteImageRecords(ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await dynamoDb().send(new DeleteCommand({ TableName: tableName('images'), Key: { id } }));
  }
}

/** An image the caller may see; others are as absent as images that never existed. */
export async function getVisibleImage(id: string, userId: string): Promise<ImageRecord> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('images'), Key: { id } }));
  if (!Item || Item.owner !== userId) throw notFound(`image ${id}`);
  return Item as ImageRecord;
}

export async function getImage(id: string): Promise<ImageRecord | undefined> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('images'), Key: { id } }));
  return Item as ImageRecord | undefined;
}

/**
 * Which converter may write an image: `null` only the converter function (no container job is
 * named on the image), a job id only that converter container job. `claim` also lets the job
 * name itself on an image that names no job yet (set `converterJobId` in the changes).
 */
export interface ConverterGuard {
  readonly converterJobId: string | null;
  readonly claim?: boolean;
}

/**
 * Moves an image from one of the `from` states to `changes.status`, with one conditional write;
 * returns false when the image is in none of them (another worker, or a repeated message, won),
 * or when `guard` names another converter than the one holding it.
 */
export async function moveImage(
  id: string,
  from: readonly ImageStatus[],
  changes: Partial<Omit<ImageRecord, 'id' | 'owner' | 'createdAt'>> & { status: ImageStatus },
  guard?: ConverterGuard,
): Promise<boolean> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':now': new Date().toISOString() };
  const sets = ['updatedAt = :now'];
  for (const [key, value] of Object.entries(changes)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  from.forEach((status, i) => (values[`:from${i}`] = status));
  const conditions = [`#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`];
  if (guard) {
    names['#converterJob'] = 'converterJobId';
    if (guard.converterJobId === null) {
      conditions.push('attribute_not_exists(#converterJob)');
    } else {
      values[':heldBy'] = guard.converterJobId;
      conditions.push(
        guard.claim
          ? '(attribute_not_exists(#converterJob) OR #converterJob = :heldBy)'
          : '#converterJob = :heldBy',
      );
    }
  }
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('images'),
        Key: { id },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
