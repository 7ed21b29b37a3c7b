import { apiHandler } from '../shared/api/api-handler';
import { uploadView } from '../shared/uploads/upload-record';
import { getOwnedUpload } from '../shared/uploads/upload-store';

/** `GET /v1/uploads/{uploadId}`. */
export const handler = apiHandler('getUpload', async ({ caller, pathParameters }) => {
  const record = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  return { status: 200, body: uploadView(record) };
});
