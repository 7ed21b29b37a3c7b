import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { badRequest, notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { AlgorithmRecord, roleOf } from '../algorithms/algorithm-record';
import { tableName } from '../contracts/tables';
import {
  JobRecord,
  JobStatus,
  MAX_STATUS_REASON_CHARS,
  PARSING_OUTPUTS,
  TERMINAL_SEQUENCE,
} from './job-record';

export async function putJob(job: JobRecord): Promise<void> {
  await dynamoDb().send(
    new PutCommand({
      TableName: tableName('jobs'),
      Item: job,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

export async function getJob(id: string): Promise<JobRecord | undefined> {
  const { Item } = await dynamoDb().send(new GetCommand({ TableName: tableName('jobs'), Key: { id } }));
  return Item as JobRecord | undefined;
}

/**
 * A job its creator or an editor of its algorithm may see, with the algorithm; anyone else gets
 * the 404 of a job that does not exist.
 */
export async function getVisibleJob(
  id: string,
  userId: string,
): Promise<{ job: JobRecord; algorithm?: AlgorithmRecord }> {
  const job = await getJob(id);
  if (!job) throw notFound(`job ${id}`);
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('algorithms'), Key: { id: job.algorithmId } }),
  );
  const algorithm = Item as AlgorithmRecord | undefined;
  const editor = algorithm !== undefined && roleOf(algorithm, userId) === 'editor';
  if (job.owner !== userId && !editor) throw notFound(`job ${id}`);
  return { job, algorithm };
}

export interface JobChange {
  readonly status: JobStatus;
  readonly sequence: number;
  readonly statusReason?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What else must hold for a change to be written. */
export interface JobCondition {
  /** The Batch job the event is about; recorded if the job names none yet. */
  readonly batchJobId?: string;
  /**
   * The output image whose conversion ends the job: it must be `Parsing outputs` and still wait
   * for that image (and, with `last`, for no other).
   */
  readonly settling?: { readonly imageId: string; readonly last: boolean };
}

/**
 * Moves a job forward: written only if `change.sequence` is beyond the job's current one, so a
 * duplicated or late event, or one after a terminal state, changes nothing. A change into a
 * terminal state also clears `holdsSlots` and `pendingImages`; the returned record says whether
 * this call cleared `holdsSlots`, so exactly one caller gives the slots back, and whether this
 * call ended the job, which exactly one call does.
 */
export async function advanceJob(
  id: string,
  change: JobChange,
  condition?: JobCondition,
): Promise<{ job: JobRecord; releasedSlots: boolean; ended: boolean } | undefined> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {
    ':status': change.status,
    ':sequence': change.sequence,
    ':now': new Date().toISOString(),
  };
  const sets = ['#status = :status', '#sequence = :sequence', 'updatedAt = :now'];
  names['#sequence'] = 'sequence';
  const reason =
    change.statusReason !== undefined && change.statusReason.length > MAX_STATUS_REASON_CHARS
      ? `${change.statusReason.slice(0, MAX_STATUS_REASON_CHARS - 1)}…`
      : change.statusReason;
  if (reason !== undefined) {
    sets.push('statusReason = :reason');
    values[':reason'] = reason;
  }
  for (const [key, value] of Object.entries(change.fields ?? {})) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  let conditionExpression = '#sequence < :sequence';
  if (condition?.batchJobId) {
    // An event may arrive before the submitter recorded the Batch id: the event records it then.
    conditionExpression += ' AND (attribute_not_exists(batchJobId) OR batchJobId = :batchJobId)';
    sets.push('batchJobId = :batchJobId');
    values[':batchJobId'] = condition.batchJobId;
  }
  if (condition?.settling) {
    conditionExpression += ' AND #status = :parsing AND contains(pendingImages, :settled)';
    values[':parsing'] = PARSING_OUTPUTS;
    values[':settled'] = condition.settling.imageId;
    if (condition.settling.last) {
      conditionExpression += ' AND size(pendingImages) = :oneImage';
      values[':oneImage'] = 1;
    }
  }
  const terminal = change.sequence >= TERMINAL_SEQUENCE;
  if (terminal) {
    sets.push('holdsSlots = :false');
    values[':false'] = false;
  }
  // An ended job waits for no output image, whatever ended it.
  const removes = terminal ? ' REMOVE pendingImages' : '';
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('jobs'),
        Key: { id },
        UpdateExpression: `SET ${sets.join(', ')}${removes}`,
        ConditionExpression: conditionExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = Attributes as JobRecord;
    const job: JobRecord = {
      ...before,
      ...(terminal && { pendingImages: undefined }),
      ...change.fields,
      status: change.status,
      sequence: change.sequence,
      ...(reason !== undefined && { statusReason: reason }),
      ...(condition?.batchJobId && { batchJobId: condition.batchJobId }),
      ...(terminal && { holdsSlots: false }),
      updatedAt: values[':now'] as string,
    };
    return {
      job,
      releasedSlots: terminal && before.holdsSlots,
      ended: terminal && before.sequence < TERMINAL_SEQUENCE,
    };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * Takes a converted output image off the job's pending set while others remain, with one
 * conditional write; false when the job is no longer `Parsing outputs`, no longer waits for the
 * image (a repeated message) or waits for it alone (its conversion then ends the job).
 */
export async function removePendingImage(id: string, imageId: string): Promise<boolean> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('jobs'),
        Key: { id },
        UpdateExpression: 'DELETE pendingImages :image SET updatedAt = :now',
        ConditionExpression:
          '#status = :parsing AND contains(pendingImages, :imageId) AND size(pendingImages) > :oneImage',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':image': new Set([imageId]),
          ':imageId': imageId,
          ':parsing': PARSING_OUTPUTS,
          ':oneImage': 1,
          ':now': new Date().toISOString(),
        },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/**
 * Records the log stream a Batch event names for a job that has none yet, whatever its state: a
 * job cancelled while it started, or whose RUNNING event came late, still has its log read.
 */
export async function recordLogStream(id: string, batchJobId: string, logStreamName: string): Promise<void> {
  await dynamoDb()
    .send(
      new UpdateCommand({
        TableName: tableName('jobs'),
        Key: { id },
        UpdateExpression: 'SET logStreamName = :stream',
        ConditionExpression:
          'attribute_exists(id) AND attribute_not_exists(logStreamName) AND (attribute_not_exists(batchJobId) OR batchJobId = :batchJobId)',
        ExpressionAttributeValues: { ':stream': logStreamName, ':batchJobId': batchJobId },
      }),
    )
    .catch((err) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}

/**
 * Records the Batch id of a submitted job, and of the staging job that copies its inputs, unless
 * a state event recorded the job's first.
 */
export async function recordSubmission(
  id: string,
  batchJobId: string,
  inputStagingBatchJobId?: string,
): Promise<void> {
  await dynamoDb()
    .send(
      new UpdateCommand({
        TableName: tableName('jobs'),
        Key: { id },
        UpdateExpression: `SET batchJobId = :batchJobId${
          inputStagingBatchJobId !== undefined ? ', inputStagingBatchJobId = :staging' : ''
        }`,
        ConditionExpression: 'attribute_not_exists(batchJobId)',
        ExpressionAttributeValues: {
          ':batchJobId': batchJobId,
          ...(inputStagingBatchJobId !== undefined && { ':staging': inputStagingBatchJobId }),
        },
      }),
    )
    .catch((err) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}

/**
 * A page of jobs by their creator, or by algorithm for its editors; newest first, from `startKey`
 * (the `lastKey` of the page before, which a page token carried).
 */
export async function queryJobs(
  by: { owner: string } | { algorithmId: string },
  filter: { algorithmId?: string; status?: JobStatus },
  limit: number,
  startKey: Record<string, unknown> | undefined,
): Promise<{ items: JobRecord[]; lastKey?: Record<string, unknown> }> {
  const [index, keyName, keyValue] =
    'owner' in by ? ['byOwner', 'owner', by.owner] : ['byAlgorithm', 'algorithmId', by.algorithmId];
  if (startKey && startKey[keyName] !== keyValue) throw badRequest('nextToken is not valid');
  const filters: string[] = [];
  const names: Record<string, string> = { '#key': keyName };
  const values: Record<string, unknown> = { ':key': keyValue };
  if (filter.algorithmId && 'owner' in by) {
    filters.push('algorithmId = :algorithmId');
    values[':algorithmId'] = filter.algorithmId;
  }
  if (filter.status) {
    filters.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = filter.status;
  }
  const page = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('jobs'),
      IndexName: index,
      KeyConditionExpression: '#key = :key',
      ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return {
    items: (page.Items ?? []) as JobRecord[],
    ...(page.LastEvaluatedKey && { lastKey: page.LastEvaluatedKey }),
  };
}
