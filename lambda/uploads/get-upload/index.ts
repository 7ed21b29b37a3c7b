import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { getUploadOperation } from './operation';
import { uploadView } from '../upload-record';
import { getOwnedUpload } from '../upload-store';

parseEnvironment(getUploadOperation);

/** `GET /v1/uploads/{uploadId}`. */
export const handler = apiHandler(getUploadOperation, async ({ caller, pathParameters }) => {
  const record = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  return { status: 200, body: uploadView(record) };
});
