import { AbortMultipartUploadCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { conflict } from '../shared/api/api-error';
import { apiHandler } from '../shared/api/api-handler';
import { s3 } from '../shared/aws-clients';
import { uploadView } from '../shared/uploads/upload-record';
import { releaseUploadBytes } from '../shared/uploads/upload-quota';
import { uploadSettings } from '../shared/uploads/upload-settings';
import { finishUpload, getOwnedUpload } from '../shared/uploads/upload-store';

const settings = uploadSettings();

/** `DELETE /v1/uploads/{uploadId}`: discards the parts and gives the quota back. */
export const handler = apiHandler('abortUpload', async ({ caller, pathParameters }) => {
  const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  if (upload.status !== 'Pending')
    throw conflict(`upload ${upload.id} is ${upload.status}; only Pending uploads abort`);
  try {
    await s3().send(
      new AbortMultipartUploadCommand({
        Bucket: settings.bucket,
        Key: upload.objectKey,
        UploadId: upload.s3UploadId,
      }),
    );
  } catch (err) {
    // Already gone from S3 (its lifecycle rule aborts stale uploads): the record still has to follow.
    if (!(err instanceof S3ServiceException && err.name === 'NoSuchUpload')) throw err;
  }
  const aborted = await finishUpload(upload, 'Aborted', new Date().toISOString());
  await releaseUploadBytes(caller.userId, upload.size);
  return { status: 200, body: uploadView(aborted) };
});
