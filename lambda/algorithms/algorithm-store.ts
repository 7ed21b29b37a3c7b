import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { badRequest, conflict, forbidden, notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';
import { AlgorithmRecord, AlgorithmRole, AlgorithmVersionRef, roleOf } from './algorithm-record';
import { imageDigest } from './container-image';

export async function putAlgorithm(algorithm: AlgorithmRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('algorithms'),
      Item: algorithm,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** The algorithm and the caller's role in it; a non-member gets the 404 of a missing algorithm. */
export async function getVisibleAlgorithm(
  id: string,
  userId: string,
): Promise<{ algorithm: AlgorithmRecord; role: AlgorithmRole }> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('algorithms'), Key: { id } }));
  const role = Item ? roleOf(Item as AlgorithmRecord, userId) : undefined;
  if (!Item || !role) throw notFound(`algorithm ${id}`);
  return { algorithm: Item as AlgorithmRecord, role };
}

/** As getVisibleAlgorithm, and refuses a member who is not an editor. */
export async function getEditableAlgorithm(id: string, userId: string): Promise<AlgorithmRecord> {
  const { algorithm, role } = await getVisibleAlgorithm(id, userId);
  if (role !== 'editor') throw forbidden(`only editors of algorithm ${id} may change it`);
  return algorithm;
}

/**
 * Writes `changes` if nobody changed the algorithm since `algorithm` was read (its revision);
 * otherwise the caller gets a 409 and should read it again.
 */
export async function updateAlgorithm(
  algorithm: AlgorithmRecord,
  changes: Partial<Pick<AlgorithmRecord, 'editors' | 'users' | 'activeVersion' | 'activeModel'>>,
): Promise<AlgorithmRecord> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ':expected': algorithm.revision,
    ':next': algorithm.revision + 1,
    ':now': new Date().toISOString(),
  };
  const sets = ['revision = :next', 'updatedAt = :now'];
  for (const [key, value] of Object.entries(changes)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('algorithms'),
        Key: { id: algorithm.id },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'revision = :expected',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as AlgorithmRecord;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      throw conflict(`algorithm ${algorithm.id} was changed meanwhile; read it again and retry`);
    }
    throw err;
  }
}

/** Records a version; an image digest can be registered once per algorithm. */
export async function putVersion(
  algorithmId: string,
  version: AlgorithmVersionRef,
  createdBy: string,
): Promise<void> {
  const digest = imageDigest(version.image);
  const { Items } = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('algorithmVersions'),
      KeyConditionExpression: 'algorithmId = :id',
      FilterExpression: 'digest = :digest',
      ExpressionAttributeValues: { ':id': algorithmId, ':digest': digest },
    }),
  );
  if (Items && Items.length > 0) {
    throw conflict(`image ${digest} is already version ${Items[0].id} of algorithm ${algorithmId}`);
  }
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('algorithmVersions'),
      Item: { algorithmId, ...version, digest, createdBy },
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** Keeps the membership index in step with the algorithm's editors and users. */
export async function syncMemberships(
  before: AlgorithmRecord | undefined,
  after: AlgorithmRecord,
): Promise<void> {
  const members = (a: AlgorithmRecord | undefined) => new Set([...(a?.editors ?? []), ...(a?.users ?? [])]);
  const now = members(after);
  for (const userId of now) {
    await dynamoDb().send(
      new PutCommand({ TableName: tableName('memberships'), Item: { userId, algorithmId: after.id } }),
    );
  }
  for (const userId of members(before)) {
    if (!now.has(userId)) {
      await dynamoDb().send(
        new DeleteCommand({ TableName: tableName('memberships'), Key: { userId, algorithmId: after.id } }),
      );
    }
  }
}

/**
 * A page of the algorithms `userId` belongs to, checked against each algorithm item, from
 * `startKey` (the `lastKey` of the page before, which a page token carried).
 */
export async function listVisibleAlgorithms(
  userId: string,
  limit: number,
  startKey: Record<string, unknown> | undefined,
): Promise<{
  items: { algorithm: AlgorithmRecord; role: AlgorithmRole }[];
  lastKey?: Record<string, unknown>;
}> {
  if (startKey && startKey.userId !== userId) throw badRequest('nextToken is not valid');
  const page = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('memberships'),
      KeyConditionExpression: 'userId = :userId',
      ExpressionAttributeValues: { ':userId': userId },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  const items = [];
  for (const { algorithmId } of page.Items ?? []) {
    const { Item } = await dynamoDb().send(
      new GetCommand({ TableName: tableName('algorithms'), Key: { id: algorithmId } }),
    );
    const role = Item ? roleOf(Item as AlgorithmRecord, userId) : undefined;
    if (Item && role) items.push({ algorithm: Item as AlgorithmRecord, role });
  }
  return { items, ...(page.LastEvaluatedKey && { lastKey: page.LastEvaluatedKey }) };
}

/** The algorithm, for the platform's own work (a build's registration): no caller's role applies. */
export async function getAlgorithm(id: string): Promise<AlgorithmRecord> {
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('algorithms'), Key: { id }, ConsistentRead: true }),
  );
  if (!Item) throw notFound(`algorithm ${id}`);
  return Item as AlgorithmRecord;
}
