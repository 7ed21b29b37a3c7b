import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { BuildState } from '../contracts/builds';
import { tableName } from '../contracts/tables';
import { BuildRecord } from './build-record';

export async function putBuild(build: BuildRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('builds'),
      Item: build,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

export async function findBuild(algorithmId: string, buildId: string): Promise<BuildRecord | undefined> {
  const { Item } = await dynamoDb().send(
    new GetCommand({
      TableName: tableName('builds'),
      Key: { algorithmId, id: buildId },
      ConsistentRead: true,
    }),
  );
  return Item as BuildRecord | undefined;
}

export async function getBuild(algorithmId: string, buildId: string): Promise<BuildRecord> {
  const build = await findBuild(algorithmId, buildId);
  if (!build) throw notFound(`build ${buildId} of algorithm ${algorithmId}`);
  return build;
}

/** A page of an algorithm's builds, from `startKey` (the `lastKey` of the page before). */
export async function listBuilds(
  algorithmId: string,
  limit: number,
  startKey: Record<string, unknown> | undefined,
): Promise<{ items: BuildRecord[]; lastKey?: Record<string, unknown> }> {
  const page = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('builds'),
      KeyConditionExpression: 'algorithmId = :id',
      ExpressionAttributeValues: { ':id': algorithmId },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return {
    items: (page.Items ?? []) as BuildRecord[],
    ...(page.LastEvaluatedKey && { lastKey: page.LastEvaluatedKey }),
  };
}

export interface BuildMove {
  /** The states it may move from; any other leaves the build as it is. */
  readonly from: readonly BuildState[];
  readonly to: BuildState;
  readonly statusDetail?: string;
  /** Fields set with the move. */
  readonly fields?: Partial<Omit<BuildRecord, 'algorithmId' | 'id' | 'state'>>;
  /** Fields that must not be set yet (a move that records them once). */
  readonly unset?: readonly (keyof BuildRecord)[];
}

/**
 * Moves a build with one conditional write: only from the states `move.from` names, so a late or
 * duplicated event changes nothing, and a terminal state, which no move starts from, never
 * changes. The build as written, or undefined when the condition did not hold.
 */
export async function moveBuild(
  build: Pick<BuildRecord, 'algorithmId' | 'id'>,
  move: BuildMove,
): Promise<BuildRecord | undefined> {
  const names: Record<string, string> = { '#state': 'state' };
  const values: Record<string, unknown> = { ':to': move.to, ':now': new Date().toISOString() };
  const sets = ['#state = :to', 'updatedAt = :now'];
  const fields = {
    ...move.fields,
    ...(move.statusDetail !== undefined && { statusDetail: move.statusDetail }),
  };
  for (const [key, value] of Object.entries(fields)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  const from = move.from.map((state, i) => {
    values[`:from${i}`] = state;
    return `:from${i}`;
  });
  const conditions = [`#state IN (${from.join(', ')})`];
  for (const key of move.unset ?? []) {
    names[`#${key}`] = key;
    conditions.push(`attribute_not_exists(#${key})`);
  }
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('builds'),
        Key: { algorithmId: build.algorithmId, id: build.id },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `attribute_exists(id) AND ${conditions.join(' AND ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as BuildRecord;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * Records what a late or repeated event knows of a build (its CodeBuild id, log stream, result)
 * without changing its state, each field only if it is not set yet: the first report stands.
 */
export async function recordBuildFields(
  build: Pick<BuildRecord, 'algorithmId' | 'id'>,
  fields: Partial<
    Pick<BuildRecord, 'codebuildId' | 'logStream' | 'startedAt' | 'result' | 'pipelineExecutionId'>
  >,
): Promise<void> {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return;
  await dynamoDb().send(
    new UpdateCommand({
      TableName: tableName('builds'),
      Key: { algorithmId: build.algorithmId, id: build.id },
      UpdateExpression: `SET ${entries.map(([key]) => `#${key} = if_not_exists(#${key}, :${key})`).join(', ')}`,
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeNames: Object.fromEntries(entries.map(([key]) => [`#${key}`, key])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([key, value]) => [`:${key}`, value])),
    }),
  );
}
