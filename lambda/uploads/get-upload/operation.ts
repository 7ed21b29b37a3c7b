import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { uploadsSchemas } from '../schemas';

export const operation = apiOperation('uploads/get-upload', 'GET /v1/uploads/{uploadId}', {
  summary: 'Read an upload',
  responses: { 200: schemaRef(uploadsSchemas, 'Upload') },
  permissions: { tables: { uploads: ['dynamodb:GetItem'] } },
});
