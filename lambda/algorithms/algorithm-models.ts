import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { badRequest, conflict, notFound } from '../api/api-error';
import { dynamoDb } from '../core/aws-clients';
import type { CopySourceObject } from '../core/object-copy';
import { tableName } from '../contracts/tables';
import { getOwnedUpload } from '../uploads/upload-store';
import type { UploadRecord } from '../uploads/upload-record';

/**
 * An algorithm's models, as grand-challenge's AlgorithmModel: a `.tar.gz` that its jobs find
 * extracted at /opt/ml/model. Every upload makes a new model; it is validated in the background
 * (`Validating`, then `Ready` or `Failed` with the reason) before it can be made active.
 */

export type ModelState = 'Validating' | 'Ready' | 'Failed';

/** What the platform runs a job with: the active model as the algorithm item holds it. */
export interface AlgorithmModelRef {
  readonly id: string;
  readonly sha256: string;
  /** Where the model's own copy is, in the imaging bucket. */
  readonly key: string;
  readonly bytes: number;
  /** What validation counted, which extraction for a job may not exceed. */
  readonly entries: number;
  readonly extractedBytes: number;
}

export interface AlgorithmModelRecord {
  readonly algorithmId: string;
  readonly id: string;
  readonly uploadId: string;
  readonly filename: string;
  readonly sizeBytes: number;
  readonly comment?: string;
  readonly state: ModelState;
  readonly reason?: string;
  readonly sha256?: string;
  readonly entries?: number;
  readonly extractedBytes?: number;
  /** The model's own copy, made when it is validated. */
  readonly objectKey: string;
  /** The upload's object as it was when the model was created: what is copied. */
  readonly source: CopySourceObject;
  /** Set only while Validating, for the index that the validator reads. */
  readonly pendingValidation?: 'pending';
  /** Epoch milliseconds until which a validator holds the model. */
  readonly validationLease?: number;
  readonly validationAttempts?: number;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The names a model's upload may have: a gzip-compressed tar archive. */
export const MODEL_FILENAME = /\.(tar\.gz|tgz)$/i;

/** What an editor sees of a model; `active` when the algorithm's jobs run with it. */
export function modelView(model: AlgorithmModelRecord, activeModelId: string | undefined) {
  return {
    id: model.id,
    algorithmId: model.algorithmId,
    filename: model.filename,
    sizeBytes: model.sizeBytes,
    ...(model.comment !== undefined && { comment: model.comment }),
    state: model.state,
    ...(model.reason !== undefined && { reason: model.reason }),
    ...(model.sha256 !== undefined && { sha256: model.sha256 }),
    ...(model.entries !== undefined && { entries: model.entries }),
    ...(model.extractedBytes !== undefined && { extractedBytes: model.extractedBytes }),
    active: model.id === activeModelId,
    createdAt: model.createdAt,
    updatedAt: model.updatedAt,
  };
}

/** The reference that activation writes into the algorithm, from a Ready model. */
export function modelRef(model: AlgorithmModelRecord): AlgorithmModelRef {
  if (model.state !== 'Ready' || model.sha256 === undefined) {
    throw conflict(`model ${model.id} is ${model.state}; only a Ready model can be made active`);
  }
  return {
    id: model.id,
    sha256: model.sha256,
    key: model.objectKey,
    bytes: model.sizeBytes,
    entries: model.entries!,
    extractedBytes: model.extractedBytes!,
  };
}

/**
 * The caller's upload, if it can become a model: Completed, named `*.tar.gz` or `*.tgz`, and
 * within `maxBytes` (`limits.modelBytes`).
 */
export async function modelUpload(uploadId: string, owner: string, maxBytes: number): Promise<UploadRecord> {
  const upload = await getOwnedUpload(uploadId, owner);
  if (upload.status !== 'Completed') {
    throw conflict(`upload ${uploadId} is ${upload.status}; only a Completed upload can become a model`);
  }
  if (!MODEL_FILENAME.test(upload.filename)) {
    throw badRequest(
      `upload ${uploadId} is named "${upload.filename}"; a model is a .tar.gz or .tgz archive`,
    );
  }
  if (upload.size > maxBytes) {
    throw badRequest(
      `upload ${uploadId} has ${upload.size} bytes; a model may have at most ${maxBytes} (limits.modelBytes)`,
    );
  }
  return upload;
}

/**
 * Marks the upload as the model's and stores the model, Validating. The claim is conditional, so
 * an upload becomes one model at most, and never also an image.
 */
export async function createModel(model: AlgorithmModelRecord, owner: string): Promise<void> {
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id: model.uploadId },
        UpdateExpression: 'SET modelId = :modelId',
        ConditionExpression:
          '#owner = :owner AND #status = :completed AND attribute_not_exists(imageId) AND attribute_not_exists(modelId) AND attribute_not_exists(#build)',
        ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status', '#build': 'build' },
        ExpressionAttributeValues: { ':modelId': model.id, ':owner': owner, ':completed': 'Completed' },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const upload = await getOwnedUpload(model.uploadId, owner);
    if (upload.modelId !== undefined)
      throw conflict(`upload ${upload.id} is already the model ${upload.modelId}`);
    if (upload.build !== undefined)
      throw conflict(`upload ${upload.id} is the context of build ${upload.build.id}`);
    if (upload.imageId !== undefined)
      throw conflict(`upload ${upload.id} belongs to image ${upload.imageId}`);
    throw conflict(`upload ${upload.id} is ${upload.status}; only a Completed upload can become a model`);
  }
  try {
    await dynamoDb().send(
      new PutCommand({
        TableName: tableName('algorithmModels'),
        Item: model,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  } catch (err) {
    // The upload stays usable when its model could not be stored.
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('uploads'),
        Key: { id: model.uploadId },
        UpdateExpression: 'REMOVE modelId',
        ConditionExpression: 'modelId = :modelId',
        ExpressionAttributeValues: { ':modelId': model.id },
      }),
    );
    throw err;
  }
}

export async function getModel(algorithmId: string, modelId: string): Promise<AlgorithmModelRecord> {
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('algorithmModels'), Key: { algorithmId, id: modelId } }),
  );
  if (!Item) throw notFound(`model ${modelId} of algorithm ${algorithmId}`);
  return Item as AlgorithmModelRecord;
}

/** A page of an algorithm's models, from `startKey` (the `lastKey` of the page before). */
export async function listModels(
  algorithmId: string,
  limit: number,
  startKey: Record<string, unknown> | undefined,
): Promise<{ items: AlgorithmModelRecord[]; lastKey?: Record<string, unknown> }> {
  const page = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('algorithmModels'),
      KeyConditionExpression: 'algorithmId = :id',
      ExpressionAttributeValues: { ':id': algorithmId },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  return {
    items: (page.Items ?? []) as AlgorithmModelRecord[],
    ...(page.LastEvaluatedKey && { lastKey: page.LastEvaluatedKey }),
  };
}

/** Models waiting for validation, oldest first. */
export async function pendingModels(limit: number): Promise<AlgorithmModelRecord[]> {
  const { Items } = await dynamoDb().send(
    new QueryCommand({
      TableName: tableName('algorithmModels'),
      IndexName: 'pendingValidation',
      KeyConditionExpression: 'pendingValidation = :pending',
      ExpressionAttributeValues: { ':pending': 'pending' },
      Limit: limit,
    }),
  );
  return (Items ?? []) as AlgorithmModelRecord[];
}

/**
 * Takes a pending model for one validation until `leaseUntil` (epoch ms), unless another
 * validator holds it; returns the attempt's number, or undefined when it is not free.
 */
export async function leaseValidation(
  model: AlgorithmModelRecord,
  leaseUntil: number,
): Promise<number | undefined> {
  try {
    const { Attributes } = await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('algorithmModels'),
        Key: { algorithmId: model.algorithmId, id: model.id },
        UpdateExpression:
          'SET validationLease = :until, validationAttempts = if_not_exists(validationAttempts, :zero) + :one',
        ConditionExpression:
          'pendingValidation = :pending AND (attribute_not_exists(validationLease) OR validationLease < :now)',
        ExpressionAttributeValues: {
          ':until': leaseUntil,
          ':now': Date.now(),
          ':pending': 'pending',
          ':zero': 0,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return (Attributes as AlgorithmModelRecord).validationAttempts;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/** Ends a model's validation: Ready with what was found, or Failed with the reason. */
export async function finishValidation(
  model: AlgorithmModelRecord,
  outcome:
    | {
        readonly state: 'Ready';
        readonly sha256: string;
        readonly entries: number;
        readonly extractedBytes: number;
      }
    | { readonly state: 'Failed'; readonly reason: string },
): Promise<void> {
  const values: Record<string, unknown> = {
    ':state': outcome.state,
    ':now': new Date().toISOString(),
    ':pending': 'pending',
  };
  // Every name aliased: DynamoDB reserves many words, and an outcome's fields are not checked against them.
  const names: Record<string, string> = { '#state': 'state' };
  const sets = ['#state = :state', 'updatedAt = :now'];
  for (const [key, value] of Object.entries(outcome)) {
    if (key === 'state') continue;
    names[`#${key}`] = key;
    sets.push(`#${key} = :${key}`);
    values[`:${key}`] = value;
  }
  try {
    await dynamoDb().send(
      new UpdateCommand({
        TableName: tableName('algorithmModels'),
        Key: { algorithmId: model.algorithmId, id: model.id },
        UpdateExpression: `SET ${sets.join(', ')} REMOVE pendingValidation, validationLease`,
        ConditionExpression: 'pendingValidation = :pending',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    // Another validator finished it first, with the same archive and so the same outcome.
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
