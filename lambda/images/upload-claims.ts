import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conflict, serviceUnavailable } from '../api/api-error';
import { settleBounded } from '../core/bounded-work';
import { dynamoDb } from '../core/aws-clients';
import { logger } from '../core/logger';
import { tableName } from '../contracts/tables';
import { UploadRecord } from '../uploads/upload-record';
import { getImage } from './image-store';
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
export const CLAIMS_BUDGET_MS = 12_000;

/**
 * Age past which a claim whose image was never made is abandoned: longer than the API function
 * lives (28 s), so the request that made it has ended; a new claim then takes it over.
 */
export const ABANDONED_CLAIM_MS = 60_000;

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

/**
 * Claims one upload. An upload still claimed by an image that was never made (its request ended
 * before it could give the claim back: a function cut off at its time limit) is taken over once
 * that claim is older than any request lives, so no upload stays claimed for good.
 */
async function claimUpload(id: string, owner: string, imageId: string): Promise<UploadRecord> {
  try {
    return await writeClaim(id, owner, imageId);
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const upload = await getOwnedUpload(id, owner);
    if (upload.status === 'Completed' && upload.imageId && !(await getImage(upload.imageId))) {
      const claimedAt = Date.parse(upload.claimedAt ?? '');
      if (!(Date.now() - claimedAt < ABANDONED_CLAIM_MS)) {
        try {
          return await writeClaim(id, owner, imageId, upload.imageId);
        } catch (retaken) {
          if (!(retaken instanceof ConditionalCheckFailedException)) throw retaken;
          throw conflict(`upload ${id} was claimed by another request meanwhile`);
        }
      }
      throw conflict(`upload ${id} is being claimed by another request; try again in a minute`);
    }
    if (upload.status !== 'Completed') {
      throw conflict(`upload ${id} is ${upload.status}; only Completed uploads become images`);
    }
    if (upload.modelId !== undefined) throw conflict(`upload ${id} is already the model ${upload.modelId}`);
    if (upload.build !== undefined) throw conflict(`upload ${id} is the context of build ${upload.build.id}`);
    throw conflict(`upload ${id} already belongs to image ${upload.imageId}`);
  }
}

/** The conditional write of a claim: of an unclaimed upload, or of one that `abandoned` holds. */
async function writeClaim(
  id: string,
  owner: string,
  imageId: string,
  abandoned?: string,
): Promise<UploadRecord> {
  const { Attributes } = await dynamoDb().send(
    new UpdateCommand({
      TableName: tableName('uploads'),
      Key: { id },
      UpdateExpression: 'SET imageId = :imageId, claimedAt = :now',
      ConditionExpression: `#owner = :owner AND #status = :completed AND ${
        abandoned ? 'imageId = :abandoned' : 'attribute_not_exists(imageId)'
      } AND attribute_not_exists(modelId) AND attribute_not_exists(#build)`,
      ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status', '#build': 'build' },
      ExpressionAttributeValues: {
        ':imageId': imageId,
        ':owner': owner,
        ':completed': 'Completed',
        ':now': new Date().toISOString(),
        ...(abandoned && { ':abandoned': abandoned }),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Attributes as UploadRecord;
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
          UpdateExpression: 'REMOVE imageId, claimedAt',
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
