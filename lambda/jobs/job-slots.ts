import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { limitExceeded } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

export interface SlotLimits {
  readonly activeJobsPerUser: number;
  readonly activeJobsPerAlgorithm: number;
  readonly activeJobsTotal: number;
}

interface Scope {
  readonly scope: string;
  readonly limit: number;
  readonly refusal: string;
}

/** The counters a job's slots are taken from: its owner's, its algorithm's, the platform's. */
export function slotScopes(userId: string, algorithmId: string): [string, string, string] {
  return [`user#${userId}`, `algorithm#${algorithmId}`, 'platform'];
}

function scopesOf(userId: string, algorithmId: string, limits: SlotLimits): Scope[] {
  const [user, algorithm, platform] = slotScopes(userId, algorithmId);
  return [
    {
      scope: user,
      limit: limits.activeJobsPerUser,
      refusal: `you have ${limits.activeJobsPerUser} active jobs, the most allowed`,
    },
    {
      scope: algorithm,
      limit: limits.activeJobsPerAlgorithm,
      refusal: `algorithm ${algorithmId} has ${limits.activeJobsPerAlgorithm} active jobs, the most allowed`,
    },
    {
      scope: platform,
      limit: limits.activeJobsTotal,
      refusal: `the platform runs ${limits.activeJobsTotal} jobs, the most allowed`,
    },
  ];
}

/**
 * Takes one active-job slot in each scope (the user, the algorithm, the platform), each with one
 * conditional write, so concurrent submissions can never pass a limit together. If a scope is
 * full, the slots already taken are given back and the refusal names the limit.
 */
export async function acquireJobSlots(
  userId: string,
  algorithmId: string,
  limits: SlotLimits,
): Promise<void> {
  const taken: Scope[] = [];
  for (const scope of scopesOf(userId, algorithmId, limits)) {
    try {
      await dynamoDb().send(
        new UpdateCommand({
          TableName: tableName('activeJobs'),
          Key: { scope: scope.scope },
          UpdateExpression: 'ADD active :one',
          ConditionExpression: 'attribute_not_exists(active) OR active < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': scope.limit },
        }),
      );
      taken.push(scope);
    } catch (err) {
      await Promise.all(taken.map((t) => giveBack(t.scope)));
      if (err instanceof ConditionalCheckFailedException) throw limitExceeded(scope.refusal);
      throw err;
    }
  }
}

/** Gives back the slots of a job that ended or was never started. */
export async function releaseJobSlots(userId: string, algorithmId: string): Promise<void> {
  // Giving back needs no limits, so the converter, which knows none, can end a job too.
  await Promise.all(slotScopes(userId, algorithmId).map((scope) => giveBack(scope)));
}

async function giveBack(scope: string): Promise<void> {
  await dynamoDb()
    .send(
      new UpdateCommand({
        TableName: tableName('activeJobs'),
        Key: { scope },
        UpdateExpression: 'ADD active :minusOne',
        ConditionExpression: 'active > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    )
    .catch((err) => {
      // Never below zero: a slot given back twice is a bug to log, not a count to corrupt.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}
