import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { badRequest, conflict } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

/** Keys are kept this long; a retry after that is a new submission. */
const KEY_LIFETIME_SECONDS = 24 * 3600;

export type KeyClaim = { readonly fresh: true } | { readonly fresh: false; readonly jobId: string };

/**
 * Claims `Idempotency-Key` for a submission. The first claim wins with one conditional write;
 * a later one with the same request gets the first job's id, with another request a 409.
 */
export async function claimIdempotencyKey(
  userId: string,
  key: string,
  request: unknown,
  jobId: string,
): Promise<KeyClaim> {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw badRequest('the Idempotency-Key header must be 1 to 255 visible ASCII characters');
  }
  const itemKey = `${userId}#${key}`;
  const requestHash = hashOf(request);
  try {
    await dynamoDb().send(
      new PutCommand({
        TableName: tableName('idempotencyKeys'),
        Item: {
          key: itemKey,
          requestHash,
          jobId,
          complete: false,
          expiresAt: Math.floor(Date.now() / 1000) + KEY_LIFETIME_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': 'key' },
      }),
    );
    return { fresh: true };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('idempotencyKeys'), Key: { key: itemKey } }),
  );
  if (!Item) throw conflict('a submission with this Idempotency-Key was just abandoned; retry it');
  if (Item.requestHash !== requestHash) {
    throw conflict('this Idempotency-Key was used for a different request; use a new key for a new job');
  }
  if (!Item.complete)
    throw conflict('a submission with this Idempotency-Key is still in progress; retry shortly');
  return { fresh: false, jobId: Item.jobId as string };
}

/** Marks the key's job as written, so that retries return it. */
export async function completeIdempotencyKey(userId: string, key: string): Promise<void> {
  await dynamoDb().send(
    new UpdateCommand({
      TableName: tableName('idempotencyKeys'),
      Key: { key: `${userId}#${key}` },
      UpdateExpression: 'SET complete = :true',
      ExpressionAttributeValues: { ':true': true },
    }),
  );
}

/** Frees the key of a submission that was refused, so the corrected request can use it. */
export async function releaseIdempotencyKey(userId: string, key: string): Promise<void> {
  await dynamoDb().send(
    new DeleteCommand({ TableName: tableName('idempotencyKeys'), Key: { key: `${userId}#${key}` } }),
  );
}

/** Same JSON, same hash, whatever the order of object keys. */
function hashOf(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}
