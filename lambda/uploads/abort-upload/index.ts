import { conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { abortUpload } from '../abort-pending-upload';
import { uploadView } from '../upload-record';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { getOwnedUpload } from '../upload-store';

parseEnvironment(operation);

const { imagingBucket } = IMAGING_BUCKET.read();

/** `DELETE /v1/uploads/{uploadId}`: discards the parts and gives the quota back. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  if (upload.status !== 'Pending')
    throw conflict(`upload ${upload.id} is ${upload.status}; only Pending uploads abort`);
  return { status: 200, body: uploadView(await abortUpload(upload, imagingBucket)) };
});
