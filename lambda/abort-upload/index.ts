import { conflict } from '../shared/api/api-error';
import { apiHandler } from '../shared/api/api-handler';
import { abortUpload } from '../shared/uploads/abort-upload';
import { uploadView } from '../shared/uploads/upload-record';
import { uploadSettings } from '../shared/uploads/upload-settings';
import { getOwnedUpload } from '../shared/uploads/upload-store';

const settings = uploadSettings();

/** `DELETE /v1/uploads/{uploadId}`: discards the parts and gives the quota back. */
export const handler = apiHandler('abortUpload', async ({ caller, pathParameters }) => {
  const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  if (upload.status !== 'Pending')
    throw conflict(`upload ${upload.id} is ${upload.status}; only Pending uploads abort`);
  return { status: 200, body: uploadView(await abortUpload(upload, settings.bucket)) };
});
