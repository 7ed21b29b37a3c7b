import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { badRequest, conflict } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

/** Keys are kept this long; a retry after that is a new submission. The table's TTL removes them. */
const KEY_LIFETIME_SECONDS = 24 * 3600;

/**
 * A claim whose submission ends no later than this: the API's 29 s, and margin. A claim older than
 * this and still in progress belongs to a submission that died (a timeout, a crash).
 */
export const STALE_CLAIM_SECONDS = 60;

export type KeyClaim = { readonly fresh: true } | { readonly fresh: false; readonly jobId: string };

interface KeyItem {
  readonly key: string;
  readonly requestHash: string;
  readonly jobId: string;
  readonly complete: boolean;
  readonly claimedAt: number;
  readonly expiresAt: number;
}

/**
 * Claims `Idempotency-Key` for a submission. The first claim wins with one conditional write; a
 * later one with the same request gets the first job's id, with another request a 409. A key
 * past its lifetime counts as unused (the table's TTL deletes it only eventually). A claim left
 * in progress by a submission that died is taken over: if that submission wrote its job, the
 * retry gets that job; otherwise the retry submits anew.
 */
export async function claimIdempotencyKey(
  userId: string,
  key: string,
  request: unknown,
  jobId: string,
  jobExists: (jobId: string) => Promise<boolean>,
): Promise<KeyClaim> {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw badRequest('the Idempotency-Key header must be 1 to 255 visible ASCII characters');
  }
  const itemKey = `${userId}#${key}`;
  const requestHash = hashOf(request);
  const now = Math.floor(Date.now() / 1000);
  const claim: KeyItem = {
    key: itemKey,
    requestHash,
    jobId,
    complete: false,
    claimedAt: now,
    expiresAt: now + KEY_LIFETIME_SECONDS,
  };
  if (await put(claim, 'attribute_not_exists(#key) OR expiresAt <= :now', { ':now': now })) {
    return { fresh: true };
  }
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('idempotencyKeys'), Key: { key: itemKey }, ConsistentRead: true }),
  );
  const held = Item as KeyItem | undefined;
  if (!held) throw conflict('a submission with this Idempotency-Key was just abandoned; retry it');
  if (held.requestHash !== requestHash) {
    throw conflict('this Idempotency-Key was used for a different request; use a new key for a new job');
  }
  if (held.complete) return { fresh: false, jobId: held.jobId };
  if (held.claimedAt > now - STALE_CLAIM_SECONDS) {
    throw conflict('a submission with this Idempotency-Key is still in progress; retry shortly');
  }
  // The submission that claimed it died. Its job, if it wrote one, is the answer.
  if (await jobExists(held.jobId)) {
    await completeIdempotencyKey(userId, key);
    return { fresh: false, jobId: held.jobId };
  }
  if (
    await put(claim, 'claimedAt = :heldSince AND complete = :false', {
      ':heldSince': held.claimedAt,
      ':false': false,
    })
  ) {
    return { fresh: true };
  }
  throw conflict('a submission with this Idempotency-Key is still in progress; retry shortly');
}

/** Writes a claim if `condition` holds; false when it does not. */
async function put(item: KeyItem, condition: string, values: Record<string, unknown>): Promise<boolean> {
  try {
    await dynamoDb().send(
      new PutCommand({
        TableName: tableName('idempotencyKeys'),
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeNames: condition.includes('#key') ? { '#key': 'key' } : undefined,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
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
