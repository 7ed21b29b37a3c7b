import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { uploadsSchemas } from '../schemas';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';

/** `DELETE /v1/uploads/{uploadId}`. */
export const abortUploadOperation: ApiOperation = {
  operationId: 'abortUpload',
  method: 'DELETE',
  path: '/v1/uploads/{uploadId}',
  summary: 'Abort an upload, discarding its parts and returning its quota',
  responses: { 200: schemaRef(uploadsSchemas, 'Upload') },
  handler: 'uploads/abort-upload',
  permissions: {
    tables: { uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], usage: ['dynamodb:UpdateItem'] },
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:AbortMultipartUpload'] }],
  },
};
