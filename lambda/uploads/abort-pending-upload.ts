import { AbortMultipartUploadCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { s3 } from '../core/aws-clients';
import { UploadRecord } from './upload-record';
import { releaseUploadBytes } from './upload-quota';
import { finishUpload } from './upload-store';
import { cancelUnuploadedBuild } from '../builds/build-queueing';

/**
 * Discards a Pending upload: its parts in S3, its state (Aborted, a conditional write that loses
 * to a concurrent complete with a 409), then its bytes in the owner's quota. A build whose
 * context it was ends Cancelled, giving back its slot.
 */
export async function abortUpload(upload: UploadRecord, bucket: string): Promise<UploadRecord> {
  try {
    await s3().send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.objectKey, UploadId: upload.s3UploadId }),
    );
  } catch (err) {
    // Already gone from S3 (its lifecycle rule aborts stale uploads): the record still has to follow.
    if (!(err instanceof S3ServiceException && err.name === 'NoSuchUpload')) throw err;
  }
  const aborted = await finishUpload(upload, 'Aborted', new Date().toISOString());
  await releaseUploadBytes(upload.owner, upload.size);
  if (upload.build) await cancelUnuploadedBuild(upload.build, 'its context upload was aborted');
  return aborted;
}
