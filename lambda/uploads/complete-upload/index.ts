import {
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { badRequest, conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { s3 } from '../../core/aws-clients';
import { recordMetric } from '../../core/business-metrics';
import { abortUpload } from '../abort-pending-upload';
import { UploadRecord, uploadView } from '../upload-record';
import { releaseUploadBytes } from '../upload-quota';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { finishUpload, getOwnedUpload } from '../upload-store';
import { cancelUnuploadedBuild, queueBuild } from '../../builds/build-queueing';

parseEnvironment(operation);

interface CompleteUploadRequest {
  parts: { partNumber: number; etag: string }[];
}

const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * `POST /v1/uploads/{uploadId}/complete`: joins the parts; the upload is then Completed. A retry
 * of a completion whose S3 part succeeded (and whose record was not written) finds the object and
 * finishes the record, so an upload never stays Pending when its file is whole in S3. The upload
 * of a build's context queues the build.
 */
export const handler = apiHandler<CompleteUploadRequest>(
  operation,
  async ({ caller, pathParameters, body }) => {
    const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
    // A retry after the upload completed still queues its build, if that was not done.
    if (upload.status === 'Completed' && upload.build) {
      await queueBuild(upload.build);
      return { status: 200, body: uploadView(upload) };
    }
    if (upload.status !== 'Pending') throw conflict(`upload ${upload.id} is ${upload.status}`);

    const given = new Map(body.parts.map((p) => [p.partNumber, p.etag]));
    if (given.size !== body.parts.length) throw badRequest('body.parts names a part number twice');
    for (let n = 1; n <= upload.partCount; n++) {
      if (!given.has(n))
        throw badRequest(`part ${n} is missing: upload ${upload.id} has ${upload.partCount} parts`);
    }
    if (given.size > upload.partCount) {
      throw badRequest(`upload ${upload.id} has ${upload.partCount} parts; body.parts names more`);
    }

    try {
      await s3().send(
        new CompleteMultipartUploadCommand({
          Bucket: imagingBucket,
          Key: upload.objectKey,
          UploadId: upload.s3UploadId,
          MultipartUpload: {
            Parts: [...given.entries()]
              .sort(([a], [b]) => a - b)
              .map(([PartNumber, etag]) => ({ PartNumber, ETag: etag.startsWith('"') ? etag : `"${etag}"` })),
          },
        }),
      );
    } catch (err) {
      if (
        err instanceof S3ServiceException &&
        ['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall'].includes(err.name)
      ) {
        throw badRequest(
          `the parts do not match what was uploaded (${err.name}): upload each part, then send its ETag`,
        );
      }
      if (!(err instanceof S3ServiceException && err.name === 'NoSuchUpload')) throw err;
      // Completed by an earlier call, or aborted: S3's object says which.
      if (!(await storedObjectOf(upload))) {
        await abortUpload(upload, imagingBucket);
        throw conflict(
          `upload ${upload.id} is gone from S3 (aborted, or discarded for its size); it is now Aborted: start a new upload`,
        );
      }
    }

    // Each part URL signed its exact length, so the object has the declared size unless something
    // upstream failed; a file of another size is discarded rather than kept as something it is not.
    const head = await storedObjectOf(upload);
    if (head?.ContentLength !== upload.size) {
      await s3().send(new DeleteObjectCommand({ Bucket: imagingBucket, Key: upload.objectKey }));
      await finishUpload(upload, 'Aborted', new Date().toISOString());
      await releaseUploadBytes(caller.userId, upload.size);
      if (upload.build) await cancelUnuploadedBuild(upload.build, 'its context upload was discarded');
      throw badRequest(
        `the parts add up to ${head?.ContentLength ?? 0} bytes but ${upload.size} were declared; the upload was discarded`,
      );
    }
    const completed = await finishUpload(upload, 'Completed', new Date().toISOString());
    recordMetric('UploadsCompleted', 1);
    recordMetric('UploadBytes', completed.size);
    if (completed.build) await queueBuild(completed.build);
    return { status: 200, body: uploadView(completed) };
  },
);

/**
 * The upload's object, once its multipart upload completed; undefined while there is none. The
 * role may read the key but not list the bucket, so S3 answers 403, not 404, for a missing object.
 */
async function storedObjectOf(upload: UploadRecord): Promise<HeadObjectCommandOutput | undefined> {
  try {
    const head = await s3().send(new HeadObjectCommand({ Bucket: imagingBucket, Key: upload.objectKey }));
    return head.Metadata?.['upload-id'] === upload.id ? head : undefined;
  } catch (err) {
    if (err instanceof S3ServiceException && ['NotFound', 'NoSuchKey', 'Forbidden'].includes(err.name)) {
      return undefined;
    }
    throw err;
  }
}
