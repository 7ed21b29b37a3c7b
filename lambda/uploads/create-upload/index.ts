import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { s3 } from '../../core/aws-clients';
import { uploadObjectKey } from '../../contracts/bucket-layout';
import { planParts } from '../part-plan';
import { UploadRecord, uploadView } from '../upload-record';
import { releaseUploadBytes, reserveUploadBytes } from '../upload-quota';
import { uploadSettings } from '../upload-settings';
import { putUpload } from '../upload-store';

interface CreateUploadRequest {
  filename: string;
  size: number;
  contentType?: string;
}

const settings = uploadSettings();

/** `POST /v1/uploads`: reserves quota, starts the S3 multipart upload, records it as Pending. */
export const handler = apiHandler<CreateUploadRequest>('createUpload', async ({ caller, body }) => {
  const quota = caller.verified ? settings.quotaBytesVerified : settings.quotaBytesUnverified;
  await reserveUploadBytes(caller.userId, body.size, quota);

  const id = randomUUID();
  const objectKey = uploadObjectKey(caller.userId, id, body.filename);
  let s3UploadId: string | undefined;
  try {
    const started = await s3().send(
      new CreateMultipartUploadCommand({
        Bucket: settings.bucket,
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
      ...planParts(body.size, settings.partBytes),
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
          new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: objectKey, UploadId: s3UploadId }),
        )
        .catch(() => undefined);
    }
    await releaseUploadBytes(caller.userId, body.size);
    throw err;
  }
});
