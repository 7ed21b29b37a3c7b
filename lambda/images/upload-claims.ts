import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, serviceUnavailable } from '../api/api-error';
import { settleBounded } from '../core/bounded-work';
import { dynamoDb } from '../core/aws-clients';
import { logger } from '../core/logger';
import { tableName } from '../contracts/tables';
import { UploadRecord } from '../uploads/upload-record';
import { getOwnedUpload } from '../uploads/upload-store';

/**
 * Claims under way at once. A claim must be a conditional write of its own (BatchWriteItem takes no
 * conditions, a transaction at most 100 items), so thousands are sent side by side: 10,000 take a
 * few seconds, well inside the API's 29 s.
 */
export const CLAIMS_IN_FLIGHT = 32;

/**
 * Longest the claims of one request may take. The API function ends after 28 s; past this no
 * claim starts, and giving back those made (as many writes again) still fits before that end, so
 * no upload is left claimed by an image that was never made. 10,000 claims take a few seconds on
 * DynamoDB; only a throttled table or a slow machine in local mode comes near it.
 */
export const CLAIMS_BUDGET_MS = 14_000;

/**
 * Marks the caller's Completed uploads as the files of `imageId`, one conditional write each, so
 * an upload can belong to one image only; returns them in the order given. If any cannot be
 * claimed, or the claims pass `budgetMs`, no more claims start, every claim made is given back,
 * and the reason names the upload (a 409) or the time (a 503 the caller may retry).
 */
export async function claimUploadsForImage(
  uploadIds: readonly string[],
  owner: string,
  imageId: string,
  budgetMs = CLAIMS_BUDGET_MS,
): Promise<UploadRecord[]> {
  const deadline = Date.now() + budgetMs;
  const outcomes = await settleBounded(uploadIds, CLAIMS_IN_FLIGHT, (id) => {
    if (Date.now() > deadline) {
      throw serviceUnavailable(
        `claiming ${uploadIds.length} uploads took longer than ${budgetMs / 1000} s; none was kept: try again`,
      );
    }
    return claimUpload(id, owner, imageId);
  });
  const failure = outcomes.find((o): o is PromiseRejectedResult => o?.status === 'rejected');
  if (!failure) return outcomes.map((o) => (o as PromiseFulfilledResult<UploadRecord>).value);
  const claimed = uploadIds.filter((_, i) => outcomes[i]?.status === 'fulfilled');
  await releaseUploadsFromImage(claimed, imageId);
  throw failure.reason;
}

async function claimUpload(id: string, owner: string, imageId: string): Promise<UploadRecord> {
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id },
        UpdateExpression: 'SET imageId = :imageId',
        ConditionExpression:
          '#owner = :owner AND #status = :completed AND attribute_not_exists(imageId) AND attribute_not_exists(modelId) AND attribute_not_exists(#build)',
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status', '#build': 'build' },
        ExpressionAttributeValues: { ':imageId': imageId, ':owner': owner, ':completed': 'Completed' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as UploadRecord;
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const upload = await getOwnedUpload(id, owner);
    if (upload.status !== 'Completed') {
      throw conflict(`upload ${id} is ${upload.status}; only Completed uploads become images`);
    }
    if (upload.modelId !== undefined) throw conflict(`upload ${id} is already the model ${upload.modelId}`);
    if (upload.build !== undefined) throw conflict(`upload ${id} is the context of build ${upload.build.id}`);
    throw conflict(`upload ${id} already belongs to image ${upload.imageId}`);
  }
}

/**
 * Undoes `claimUploadsForImage` for the uploads that `imageId` holds, side by side. Every one is
 * tried, even after a failure, so that none stays claimed by an image that was never made; an
 * upload that `imageId` does not hold is left alone. Throws after trying all when any failed.
 */
export async function releaseUploadsFromImage(uploadIds: readonly string[], imageId: string): Promise<void> {
  const failures: string[] = [];
  let firstError: unknown;
  await settleBounded(uploadIds, CLAIMS_IN_FLIGHT, async (id) => {
    try {
      await dynamoDb().send(
        new UpdateCommand({
          TableName: tableName('uploads'),
          Key: { id },
          UpdateExpression: 'REMOVE imageId',
          ConditionExpression: 'imageId = :imageId',
          ExpressionAttributeValues: { ':imageId': imageId },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      failures.push(id);
      firstError ??= err;
    }
  });
  if (failures.length > 0) {
    logger.error('uploads left claimed by an image that was not made', { imageId, uploadIds: failures });
    throw firstError;
  }
}
