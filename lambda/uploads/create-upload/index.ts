import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { uploadView } from '../upload-record';
import { startUpload } from '../start-upload';

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
  const record = await startUpload({
    owner: caller.userId,
    filename: body.filename,
    size: body.size,
    contentType: body.contentType,
    quota: caller.verified ? limits.uploadQuotaVerifiedBytes : limits.uploadQuotaUnverifiedBytes,
    partBytes: limits.uploadPartBytes,
    bucket: imagingBucket,
  });
  return { status: 201, body: uploadView(record) };
});
