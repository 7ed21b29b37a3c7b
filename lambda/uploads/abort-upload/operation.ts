import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { uploadsSchemas } from '../schemas';

export const operation = apiOperation('uploads/abort-upload', 'DELETE /v1/uploads/{uploadId}', {
  summary: 'Abort an upload, discarding its parts and returning its quota',
  responses: { 200: schemaRef(uploadsSchemas, 'Upload') },
  permissions: {
    tables: {
      uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      usage: ['dynamodb:UpdateItem'],
      // A build whose context upload is aborted is cancelled, its slot given back.
      builds: ['dynamodb:UpdateItem'],
    },
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:AbortMultipartUpload'] }],
  },
});
