import { UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { badRequest, conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { s3ForUploaders } from '../../core/aws-clients';
import { partBytes } from '../part-plan';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { getOwnedUpload } from '../upload-store';

parseEnvironment(operation);

const { uploadPartUrlSeconds } = UPLOAD_LIMITS.read();
const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * `POST /v1/uploads/{uploadId}/parts`: one presigned URL per part. Each URL names its part
 * number and signs its exact length, so it uploads that part only, and expires.
 */
export const handler = apiHandler<{ partNumbers: number[] }>(
  operation,
  async ({ caller, pathParameters, body }) => {
    const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
    if (upload.status !== 'Pending')
      throw conflict(`upload ${upload.id} is ${upload.status}; it takes no more parts`);
    const beyond = body.partNumbers.filter((n) => n > upload.partCount);
    if (beyond.length > 0) {
      throw badRequest(`part ${beyond[0]} does not exist: upload ${upload.id} has ${upload.partCount} parts`);
    }
    const expiresAt = new Date(Date.now() + uploadPartUrlSeconds * 1000).toISOString();
    const parts = await Promise.all(
      body.partNumbers.map(async (partNumber) => {
        const size = partBytes(upload, upload.size, partNumber);
        const url = await getSignedUrl(
          s3ForUploaders(),
          new UploadPartCommand({
            Bucket: imagingBucket,
            Key: upload.objectKey,
            UploadId: upload.s3UploadId,
            PartNumber: partNumber,
            ContentLength: size,
          }),
          { expiresIn: uploadPartUrlSeconds, signableHeaders: new Set(['content-length']) },
        );
        return { partNumber, url, size, expiresAt };
      }),
    );
    return { status: 200, body: { parts } };
  },
);
