import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { uploadsSchemas } from '../schemas';

/** `GET /v1/uploads/{uploadId}`. */
export const getUploadOperation: ApiOperation = {
  operationId: 'getUpload',
  method: 'GET',
  path: '/v1/uploads/{uploadId}',
  summary: 'Read an upload',
  responses: { 200: schemaRef(uploadsSchemas, 'Upload') },
  handler: 'uploads/get-upload',
  permissions: { tables: { uploads: ['dynamodb:GetItem'] } },
};
