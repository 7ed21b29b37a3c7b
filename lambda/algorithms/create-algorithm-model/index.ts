import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { IMAGING_BUCKET, modelObjectKey } from '../../contracts/bucket-layout';
import { parseEnvironment } from '../../contracts/handler-environment';
import { MODEL_LIMITS } from '../../contracts/model-limits';
import { s3 } from '../../core/aws-clients';
import { operation } from './operation';
import { AlgorithmModelRecord, createModel, modelUpload, modelView } from '../algorithm-models';
import { getEditableAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

const { modelBytes } = MODEL_LIMITS.read();
const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * `POST /v1/algorithms/{algorithmId}/models`: an editor makes one of their Completed uploads a
 * new model of the algorithm. The model is Validating: the validator copies the upload's object
 * (as it is now) to the model's own key and checks it; nothing of it is read here.
 */
export const handler = apiHandler<{ uploadId: string; comment?: string }>(
  operation,
  async ({ caller, pathParameters, body }) => {
    const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
    const upload = await modelUpload(body.uploadId, caller.userId, modelBytes);
    const stored = await s3()
      .send(new HeadObjectCommand({ Bucket: imagingBucket, Key: upload.objectKey }))
      .catch((err: Error) => {
        if (err.name === 'NotFound') throw conflict(`the stored file of upload ${upload.id} is gone`);
        throw err;
      });
    const id = randomUUID();
    const now = new Date().toISOString();
    const model: AlgorithmModelRecord = {
      algorithmId: algorithm.id,
      id,
      uploadId: upload.id,
      filename: upload.filename,
      sizeBytes: stored.ContentLength!,
      ...(body.comment !== undefined && { comment: body.comment }),
      state: 'Validating',
      objectKey: modelObjectKey(algorithm.id, id),
      source: {
        key: upload.objectKey,
        bytes: stored.ContentLength!,
        ...(stored.ETag !== undefined && { etag: stored.ETag }),
        ...(stored.VersionId !== undefined && { versionId: stored.VersionId }),
      },
      pendingValidation: 'pending',
      createdBy: caller.userId,
      createdAt: now,
      updatedAt: now,
    };
    await createModel(model, caller.userId);
    return { status: 201, body: modelView(model, algorithm.activeModel?.id) };
  },
);
