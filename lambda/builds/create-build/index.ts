import { randomUUID } from 'node:crypto';
import { badRequest } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { BUILD_LIMITS } from '../../contracts/builds';
import { parseEnvironment } from '../../contracts/handler-environment';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { logger } from '../../core/logger';
import { abortUpload } from '../../uploads/abort-pending-upload';
import { startUpload } from '../../uploads/start-upload';
import { uploadView } from '../../uploads/upload-record';
import { getBuildableAlgorithm } from '../build-algorithm';
import {
  BuildRecord,
  buildView,
  checkDockerfilePath,
  contextFormat,
  DEFAULT_DOCKERFILE,
} from '../build-record';
import { acquireBuildSlot, releaseBuildSlot } from '../build-slots';
import { checkBuildsCanRun } from '../local-build-check';
import { putBuild } from '../build-store';
import { operation } from './operation';

parseEnvironment(operation);

interface CreateBuildRequest {
  filename: string;
  size: number;
  dockerfile?: string;
}

const uploadLimits = UPLOAD_LIMITS.read();
const { buildContextBytes, buildsPerUser } = BUILD_LIMITS.read();
const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * `POST /v1/algorithms/{algorithmId}/builds`: an editor pushes a build context. The build takes
 * one of the caller's build slots and is Pending; its context comes as an upload of its own,
 * started as `POST /v1/uploads` starts one (quota, parts), which queues the build when it
 * completes and cancels it when aborted. Refused input writes nothing.
 */
export const handler = apiHandler<CreateBuildRequest>(operation, async ({ caller, pathParameters, body }) => {
  const algorithm = await getBuildableAlgorithm(pathParameters.algorithmId, caller.userId);
  const format = contextFormat(body.filename);
  const dockerfile = checkDockerfilePath(body.dockerfile ?? DEFAULT_DOCKERFILE);
  await checkBuildsCanRun();
  if (body.size > buildContextBytes) {
    throw badRequest(
      `body.size is ${body.size} bytes; a build context may have at most ${buildContextBytes} (builds.contextBytes)`,
    );
  }
  await acquireBuildSlot(caller.userId, buildsPerUser);
  const id = randomUUID();
  let upload;
  try {
    upload = await startUpload({
      owner: caller.userId,
      filename: body.filename,
      size: body.size,
      quota: caller.verified
        ? uploadLimits.uploadQuotaVerifiedBytes
        : uploadLimits.uploadQuotaUnverifiedBytes,
      partBytes: uploadLimits.uploadPartBytes,
      build: { algorithmId: algorithm.id, id },
      bucket: imagingBucket,
    });
  } catch (err) {
    await releaseBuildSlot(caller.userId);
    throw err;
  }
  const now = new Date().toISOString();
  const build: BuildRecord = {
    algorithmId: algorithm.id,
    id,
    createdBy: caller.userId,
    state: 'Pending',
    statusDetail: 'waiting for its context upload to complete',
    uploadId: upload.id,
    filename: body.filename,
    format,
    dockerfile,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await putBuild(build);
  } catch (err) {
    // No upload stays behind for a build that was not stored, nor its quota, nor the slot.
    await abortUpload(upload, imagingBucket).catch((abortError: Error) =>
      logger.warn('the upload of a build that could not be stored was not aborted', { error: abortError }),
    );
    await releaseBuildSlot(caller.userId);
    throw err;
  }
  return { status: 201, body: { build: buildView(build), upload: uploadView(upload) } };
});
