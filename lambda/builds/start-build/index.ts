import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Readable } from 'node:stream';
import { buildSourceKey, IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { BUILD_QUEUE, BUILD_SOURCE_ENTRY, BuildMessage } from '../../contracts/builds';
import { parseEnvironment } from '../../contracts/handler-environment';
import { tableName } from '../../contracts/tables';
import { dynamoDb, s3 } from '../../core/aws-clients';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { uploadObject } from '../../core/object-upload';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { removeRawUpload } from '../../uploads/raw-upload-removal';
import { UploadRecord } from '../../uploads/upload-record';
import { releaseContextUpload } from '../build-context-upload';
import { endBuild } from '../build-ending';
import { startBuildExecution, stopBuildExecution } from '../build-pipeline';
import { BuildRecord } from '../build-record';
import { zipOneEntry } from '../source-zip';
import { findBuild, moveBuild, recordBuildFields } from '../build-store';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * Consumes the build queue, one build at a time. A message whose build is not Queued, or has its
 * execution already, changes nothing; one whose start throws is reported failed, so SQS offers it
 * again, until the queue's last try, which ends the build Failed with the reason (its slot given
 * back); a message that cannot even be read goes to the dead-letter queue.
 */
async function startQueuedBuilds(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    logger.resetKeys();
    logger.appendKeys({
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
    });
    let message: BuildMessage | undefined;
    try {
      message = JSON.parse(record.body) as BuildMessage;
      logger.appendKeys({ algorithmId: message.algorithmId, buildId: message.buildId });
      await startBuild(message);
    } catch (err) {
      const lastTry = Number(record.attributes?.ApproximateReceiveCount ?? 1) >= BUILD_QUEUE.maxReceiveCount;
      if (message && lastTry) {
        // The queue's last try: the build ends, rather than wait Queued for what will not start it.
        logger.error('a build could not be started; it fails', { error: err as Error });
        await endBuild(
          { algorithmId: message.algorithmId, id: message.buildId },
          {
            state: 'Failed',
            statusDetail: `the build pipeline could not be started: ${(err as Error).message}`,
          },
          { from: ['Queued'] },
        )
          // Ended here, its context upload goes and its bytes go back to the quota.
          .then((ended) => ended && releaseContextUpload(ended, imagingBucket))
          .catch(() => batchItemFailures.push({ itemIdentifier: record.messageId }));
        continue;
      }
      logger.error('a build could not be started; the queue will retry', { error: err as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

async function startBuild(message: BuildMessage): Promise<void> {
  const build = await findBuild(message.algorithmId, message.buildId);
  if (build?.state !== 'Queued' || build.pipelineExecutionId !== undefined) {
    logger.info('nothing to start', { state: build?.state });
    return;
  }
  const upload = await writeSourceObject(build);
  // The same build always gets the same execution (its id is the request token).
  const executionId = await startBuildExecution(build);
  const recorded = await moveBuild(build, {
    from: ['Queued'],
    to: 'Queued',
    statusDetail: 'the build pipeline runs it; waiting for CodeBuild',
    fields: { pipelineExecutionId: executionId },
    unset: ['pipelineExecutionId'],
  });
  if (recorded) {
    logger.info('build pipeline started', { executionId });
    // The pipeline has its own copy now: the context as uploaded goes, its bytes back to the quota.
    await removeRawUpload(upload, imagingBucket);
    return;
  }
  const now = await findBuild(build.algorithmId, build.id);
  if (now?.pipelineExecutionId === executionId) return;
  if (now && now.state !== 'Cancelled' && (now.codebuildId !== undefined || now.image !== undefined)) {
    // The pipeline ran ahead of this write: CodeBuild's events (or the Register action) moved the
    // build on from Queued. The execution is its own; it keeps it, and the context as uploaded goes.
    await recordBuildFields(now, { pipelineExecutionId: executionId });
    logger.info('build pipeline started, and ran ahead of its start', { executionId, state: now.state });
    await removeRawUpload(upload, imagingBucket);
    return;
  }
  // Cancelled (or ended) while it was being started: nothing may run for it.
  await stopBuildExecution(
    { id: build.id, pipelineExecutionId: executionId },
    `build ${build.id} is ${now?.state}`,
  );
  logger.info('the execution of a build that ended meanwhile was stopped', {
    state: now?.state,
    executionId,
  });
}

/**
 * The pipeline's source object: a zip whose one entry is the context as uploaded, streamed from
 * the upload's object into parts as it is read. Written again on a retry, with the same bytes.
 */
async function writeSourceObject(build: BuildRecord): Promise<UploadRecord> {
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('uploads'), Key: { id: build.uploadId } }),
  );
  const upload = Item as UploadRecord | undefined;
  if (upload?.status !== 'Completed') {
    throw new Error(
      `the context upload ${build.uploadId} of build ${build.id} is ${upload?.status ?? 'gone'}`,
    );
  }
  const object = await s3().send(new GetObjectCommand({ Bucket: imagingBucket, Key: upload.objectKey }));
  const entry = build.format === '.zip' ? BUILD_SOURCE_ENTRY.zip : BUILD_SOURCE_ENTRY.tarGz;
  const zip = zipOneEntry(entry, object.Body as Readable, object.ContentLength!);
  await uploadObject(s3(), {
    bucket: imagingBucket,
    key: buildSourceKey(build.algorithmId, build.id),
    body: zip.stream,
    bytes: zip.bytes,
    contentType: 'application/zip',
  });
  return upload;
}

export const handler = backgroundHandler(startQueuedBuilds);
