import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { limitExceeded } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import { tableName } from '../contracts/tables';

/**
 * Builds a user has under way, counted on their usage item. Taking a slot is one conditional
 * write, so concurrent pushes can never together pass `builds.perUser`.
 */
export async function acquireBuildSlot(userId: string, buildsPerUser: number): Promise<void> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('usage'),
        Key: { userId },
        UpdateExpression: 'ADD activeBuilds :one',
        ConditionExpression: 'attribute_not_exists(activeBuilds) OR activeBuilds < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': buildsPerUser },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    throw limitExceeded(
      `you have ${buildsPerUser} builds under way, the most allowed (builds.perUser); wait for one to end or cancel one`,
    );
  }
}

/** Gives back the slot of a build that ended or was never made. */
export async function releaseBuildSlot(userId: string): Promise<void> {
  await dynamoDb()
    .send(
      new UpdateCommand({
        TableName: tableName('usage'),
        Key: { userId },
        UpdateExpression: 'ADD activeBuilds :minusOne',
        ConditionExpression: 'activeBuilds > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    )
    .catch((err) => {
      // Never below zero: a slot given back twice is a bug, not a count to corrupt.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}
