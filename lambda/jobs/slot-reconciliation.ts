import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../contracts/tables';
import { dynamoDb } from '../core/aws-clients';
import { logger } from '../core/logger';
import { slotScopes } from './job-slots';

interface Counter {
  readonly scope: string;
  readonly active?: number;
  /** The counter's value when a run last found it away from its jobs. */
  readonly drift?: number;
}

/**
 * Brings the active-job counters back to the jobs that hold slots. A submission takes its slots
 * before it writes its job, so a counter may be ahead of the jobs table for the seconds a
 * submission lasts; one that a crash or a timeout left ahead (or a double release behind) stays
 * so. A run notes each counter that differs from its jobs; the next run, a quarter of an hour
 * later, corrects it if it still holds that value, with a write conditional on it, so no slot
 * taken or given back meanwhile is lost. Returns how many counters it corrected.
 */
export async function reconcileJobSlots(): Promise<number> {
  const held = await countHeldSlots();
  let corrected = 0;
  for (const counter of await scanAll<Counter>(tableName('activeJobs'))) {
    const active = counter.active ?? 0;
    const jobs = held.get(counter.scope) ?? 0;
    if (active === jobs) {
      if (counter.drift !== undefined) await update(counter.scope, 'REMOVE drift', active, {});
      continue;
    }
    if (counter.drift === active) {
      if (await update(counter.scope, 'SET active = :jobs REMOVE drift', active, { ':jobs': jobs })) {
        logger.warn('active-job counter corrected', { scope: counter.scope, was: active, now: jobs });
        corrected++;
      }
    } else {
      await update(counter.scope, 'SET drift = :active', active, { ':active': active });
    }
  }
  return corrected;
}

/** Slots held per scope, by the jobs that hold them. */
async function countHeldSlots(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const jobs = await scanAll<{ owner: string; algorithmId: string }>(
    tableName('jobs'),
    'holdsSlots = :true',
    { ':true': true },
  );
  for (const job of jobs) {
    for (const scope of slotScopes(job.owner, job.algorithmId)) {
      counts.set(scope, (counts.get(scope) ?? 0) + 1);
    }
  }
  return counts;
}

/** A conditional write on the counter still being `active`; false when it changed meanwhile. */
async function update(
  scope: string,
  expression: string,
  active: number,
  values: Record<string, unknown>,
): Promise<boolean> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('activeJobs'),
        Key: { scope },
        UpdateExpression: expression,
        ConditionExpression:
          active === 0 ? 'attribute_not_exists(active) OR active = :seen' : 'active = :seen',
        ExpressionAttributeValues: { ...values, ':seen': active },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

async function scanAll<T>(table: string, filter?: string, values?: Record<string, unknown>): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamoDb().send(
      new ScanCommand({
        TableName: table,
        FilterExpression: filter,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
