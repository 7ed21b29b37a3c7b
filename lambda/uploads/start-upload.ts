import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { s3 } from '../core/aws-clients';
import { uploadObjectKey } from '../contracts/bucket-layout';
import { planParts } from './part-plan';
import { UploadRecord } from './upload-record';
import { releaseUploadBytes, reserveUploadBytes } from './upload-quota';
import { putUpload } from './upload-store';

export interface UploadStart {
  readonly owner: string;
  readonly filename: string;
  readonly size: number;
  readonly contentType?: string;
  /** The owner's upload quota in bytes. */
  readonly quota: number;
  readonly partBytes: number;
  /** The build whose context this upload is: it can then become nothing else. */
  readonly build?: UploadRecord['build'];
  readonly bucket: string;
}

/**
 * Reserves quota, starts the S3 multipart upload and records it as Pending. Nothing half-made
 * stays behind when a step fails: no orphaned multipart upload, no quota held.
 */
export async function startUpload(start: UploadStart): Promise<UploadRecord> {
  await reserveUploadBytes(start.owner, start.size, start.quota);
  const id = randomUUID();
  const objectKey = uploadObjectKey(start.owner, id);
  let s3UploadId: string | undefined;
  try {
    const started = await s3().send(
      new CreateMultipartUploadCommand({
        Bucket: start.bucket,
        Key: objectKey,
        ContentType: start.contentType ?? 'application/octet-stream',
        Metadata: { 'upload-id': id },
      }),
    );
    s3UploadId = started.UploadId!;
    const record: UploadRecord = {
      id,
      owner: start.owner,
      filename: start.filename,
      contentType: start.contentType,
      size: start.size,
      ...planParts(start.size, start.partBytes),
      objectKey,
      s3UploadId,
      status: 'Pending',
      ...(start.build && { build: start.build }),
      createdAt: new Date().toISOString(),
    };
    await putUpload(record);
    return record;
  } catch (err) {
    if (s3UploadId) {
      await s3()
        .send(new AbortMultipartUploadCommand({ Bucket: start.bucket, Key: objectKey, UploadId: s3UploadId }))
        .catch(() => undefined);
    }
    await releaseUploadBytes(start.owner, start.size);
    throw err;
  }
}
