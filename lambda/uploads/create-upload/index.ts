import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { s3 } from '../../core/aws-clients';
import { IMAGING_BUCKET, uploadObjectKey } from '../../contracts/bucket-layout';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { planParts } from '../part-plan';
import { UploadRecord, uploadView } from '../upload-record';
import { releaseUploadBytes, reserveUploadBytes } from '../upload-quota';
import { putUpload } from '../upload-store';

parseEnvironment(operation);

interface CreateUploadRequest {
  filename: string;
  size: number;
  contentType?: string;
}

const limits = UPLOAD_LIMITS.read();
const { imagingBucket } = IMAGING_BUCKET.read();

/** `POST /v1/uploads`: reserves quota, starts the S3 multipart upload, records it as Pending. */
export const handler = apiHandler<CreateUploadRequest>(operation, async ({ caller, body }) => {
  const quota = caller.verified ? limits.uploadQuotaVerifiedBytes : limits.uploadQuotaUnverifiedBytes;
  await reserveUploadBytes(caller.userId, body.size, quota);

  const id = randomUUID();
  const objectKey = uploadObjectKey(caller.userId, id);
  let s3UploadId: string | undefined;
  try {
    const started = await s3().send(
      new CreateMultipartUploadCommand({
        Bucket: imagingBucket,
        Key: objectKey,
        ContentType: body.contentType ?? 'application/octet-stream',
        Metadata: { 'upload-id': id },
      }),
    );
    s3UploadId = started.UploadId!;
    const record: UploadRecord = {
      id,
      owner: caller.userId,
      filename: body.filename,
      contentType: body.contentType,
      size: body.size,
      ...planParts(body.size, limits.uploadPartBytes),
      objectKey,
      s3UploadId,
      status: 'Pending',
      createdAt: new Date().toISOString(),
    };
    await putUpload(record);
    return { status: 201, body: uploadView(record) };
  } catch (err) {
    // Nothing half-made stays behind: no orphaned multipart upload, no quota held.
    if (s3UploadId) {
      await s3()
        .send(
          new AbortMultipartUploadCommand({ Bucket: imagingBucket, Key: objectKey, UploadId: s3UploadId }),
        )
        .catch(() => undefined);
    }
    await releaseUploadBytes(caller.userId, body.size);
    throw err;
  }
});
