import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { uploadsSchemas } from '../schemas';

export const operation = apiOperation('uploads/create-upload', 'POST /v1/uploads', {
  summary: "Start a multipart upload of one file into the caller's space; counts against the quota",
  requestSchema: schemaRef(uploadsSchemas, 'CreateUploadRequest'),
  responses: { 201: schemaRef(uploadsSchemas, 'Upload') },
  permissions: {
    // putUpload; reserveUploadBytes and releaseUploadBytes update the usage counter,
    // uploadBytesInUse reads it to explain a refusal.
    tables: { uploads: ['dynamodb:PutItem'], usage: ['dynamodb:UpdateItem', 'dynamodb:GetItem'] },
    // CreateMultipartUpload is authorized as s3:PutObject; a failed start aborts what it began.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] }],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [UPLOAD_LIMITS],
});
