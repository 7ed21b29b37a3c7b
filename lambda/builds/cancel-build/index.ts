import { ApiError, conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { parseEnvironment } from '../../contracts/handler-environment';
import { abortUpload } from '../../uploads/abort-pending-upload';
import { getOwnedUpload } from '../../uploads/upload-store';
import { getBuildableAlgorithm } from '../build-algorithm';
import { releaseContextUpload } from '../build-context-upload';
import { endBuild } from '../build-ending';
import { stopBuildExecution } from '../build-pipeline';
import { BuildRecord, buildView, isTerminal } from '../build-record';
import { getBuild } from '../build-store';
import { operation } from './operation';

parseEnvironment(operation);

const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * `POST /v1/algorithms/{algorithmId}/builds/{buildId}/cancel`: a build that has not ended becomes
 * Cancelled (one conditional write, which gives its slot back), then what runs it is stopped; one
 * being checked and registered no longer can be. A
 * Pending build's upload is aborted, which cancels the build and returns the upload's quota.
 */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const algorithm = await getBuildableAlgorithm(pathParameters.algorithmId, caller.userId);
  let build = await getBuild(algorithm.id, pathParameters.buildId);
  if (isTerminal(build.state)) throw conflict(`build ${build.id} has already ended: ${build.state}`);
  // Its image is being registered: a version may be active already, which a cancel cannot undo.
  if (build.state === 'Checking') {
    throw conflict(`build ${build.id} is being checked and registered; it can no longer be cancelled`);
  }
  if (build.state === 'Pending') {
    const upload = await getOwnedUpload(build.uploadId, build.createdBy);
    if (upload.status === 'Pending') {
      await abortUpload(upload, imagingBucket).catch((err: Error) => {
        // Completed meanwhile: the build is then cancelled below, as a queued one.
        if (!(err instanceof ApiError)) throw err;
      });
      build = await getBuild(algorithm.id, build.id);
      if (build.state === 'Cancelled') return { status: 200, body: buildView(build) };
    }
  }
  const cancelled: BuildRecord | undefined = await endBuild(
    build,
    { state: 'Cancelled', statusDetail: `cancelled by ${caller.userId}` },
    { from: ['Pending', 'Queued', 'Building'] },
  );
  if (!cancelled) {
    const now = await getBuild(algorithm.id, build.id);
    throw conflict(`build ${build.id} ended before it could be cancelled: ${now.state}`);
  }
  await stopBuildExecution(cancelled, `cancelled by ${caller.userId}`);
  await releaseContextUpload(cancelled, imagingBucket);
  return { status: 200, body: buildView(cancelled) };
});
