import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { uploadView } from '../upload-record';
import { getOwnedUpload } from '../upload-store';

parseEnvironment(operation);

/** `GET /v1/uploads/{uploadId}`. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const record = await getOwnedUpload(pathParameters.uploadId, caller.userId);
  return { status: 200, body: uploadView(record) };
});
