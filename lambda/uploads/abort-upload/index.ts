import { conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { abortUpload } from '../abort-pending-upload';
import { uploadView } from '../upload-record';
import { uploadSettings } from '../upload-settings';
import { getOwnedUpload } from '../upload-store';

const settings = uploadSettings();

/** `DELETE /v1/uploads/{uploadId}`: discards the parts and gives the quota back. */
export const handler = apiHandler('abortUpload', async ({ caller, pathParameters }) => {
  const upload = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  if (upload.status !== 'Pending')
    throw conflict(`upload ${upload.id} is ${upload.status}; only Pending uploads abort`);
  return { status: 200, body: uploadView(await abortUpload(upload, settings.bucket)) };
});
