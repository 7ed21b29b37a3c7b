import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { limitExceeded } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

/**
 * The session limits as slots: a user has `viewerSessionsPerUser` slots `user#<sub>#<n>`, a region
 * `viewerSessionsPerRegion` slots `region#<region>#<n>`. A session takes one of each with a
 * conditional write that succeeds only if the slot is free or its session's expiry has passed, so
 * concurrent starts can never pass a limit together (DynamoDB Local has no transactions, so each
 * slot is one item) and a session that expired frees its slots with no sweeper.
 */
export interface SlotLimits {
  readonly viewerSessionsPerUser: number;
  readonly viewerSessionsPerRegion: number;
}

interface Pool {
  readonly prefix: string;
  readonly size: number;
  readonly refusal: string;
}

function poolsOf(userId: string, region: string, limits: SlotLimits): Pool[] {
  return [
    {
      prefix: `user#${userId}#`,
      size: limits.viewerSessionsPerUser,
      refusal: `you have ${limits.viewerSessionsPerUser} viewer sessions running, the most allowed per user (limits.viewerSessionsPerUser); stop one or wait for one to expire`,
    },
    {
      prefix: `region#${region}#`,
      size: limits.viewerSessionsPerRegion,
      refusal: `region ${region} runs ${limits.viewerSessionsPerRegion} viewer sessions, the most allowed per region (limits.viewerSessionsPerRegion); try again later`,
    },
  ];
}

/**
 * Takes a slot of the user's and one of the region's for `sessionId` until `expiresAt` (epoch
 * seconds); returns their keys. When a pool is full, gives back what it took and refuses with 429
 * naming the limit.
 */
export async function claimSessionSlots(
  sessionId: string,
  userId: string,
  region: string,
  limits: SlotLimits,
  expiresAt: number,
  now: number,
): Promise<string[]> {
  const taken: string[] = [];
  try {
    for (const pool of poolsOf(userId, region, limits)) {
      const slot = await claimOne(pool, sessionId, expiresAt, now);
      if (!slot) throw limitExceeded(pool.refusal);
      taken.push(slot);
    }
    return taken;
  } catch (err) {
    await releaseSessionSlots(sessionId, taken);
    throw err;
  }
}

async function claimOne(pool: Pool, sessionId: string, expiresAt: number, now: number) {
  // Starting at a random slot spreads concurrent starts over the pool.
  const first = Math.floor(Math.random() * pool.size);
  for (let i = 0; i < pool.size; i++) {
    const slot = `${pool.prefix}${(first + i) % pool.size}`;
    try {
      await dynamoDb().send(
        new PutCommand({
          TableName: tableName('sessionSlots'),
          Item: { slot, sessionId, expiresAt },
          ConditionExpression: 'attribute_not_exists(slot) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return slot;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
  return undefined;
}

/**
 * Moves the expiry of the session's slots to `expiresAt`; false if one of them is no longer the
 * session's or has expired (another session may have it by now).
 */
export async function extendSessionSlots(
  sessionId: string,
  slots: readonly string[],
  expiresAt: number,
  now: number,
): Promise<boolean> {
  for (const slot of slots) {
    try {
      await dynamoDb().send(
        new UpdateCommand({
          TableName: tableName('sessionSlots'),
          Key: { slot },
          UpdateExpression: 'SET expiresAt = :expiresAt',
          ConditionExpression: 'sessionId = :sessionId AND expiresAt > :now',
          ExpressionAttributeValues: { ':expiresAt': expiresAt, ':sessionId': sessionId, ':now': now },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
  return true;
}

/** Frees the slots that `sessionId` still holds; a slot another session took since is left alone. */
export async function releaseSessionSlots(sessionId: string, slots: readonly string[]): Promise<void> {
  for (const slot of slots) {
    try {
      await dynamoDb().send(
        new DeleteCommand({
          TableName: tableName('sessionSlots'),
          Key: { slot },
          ConditionExpression: 'sessionId = :sessionId',
          ExpressionAttributeValues: { ':sessionId': sessionId },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
