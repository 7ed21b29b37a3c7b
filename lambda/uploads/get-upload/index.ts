import { apiHandler } from '../../api/api-handler';
import { uploadView } from '../upload-record';
import { getOwnedUpload } from '../upload-store';

/** `GET /v1/uploads/{uploadId}`. */
export const handler = apiHandler('getUpload', async ({ caller, pathParameters }) => {
  const record = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  return { status: 200, body: uploadView(record) };
});
