import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { UPLOAD_LIMITS, UPLOAD_ENDPOINT } from '../../contracts/upload-limits';
import { uploadsSchemas } from '../schemas';

export const operation = apiOperation('uploads/sign-upload-parts', 'POST /v1/uploads/{uploadId}/parts', {
  summary: 'Presigned URLs, each good for one part of the exact part size for a limited time',
  requestSchema: schemaRef(uploadsSchemas, 'UploadPartsRequest'),
  responses: { 200: schemaRef(uploadsSchemas, 'UploadPartUrls') },
  permissions: {
    tables: { uploads: ['dynamodb:GetItem'] },
    // A presigned UploadPart URL acts with this role's permissions when the uploader uses it.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject'] }],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [UPLOAD_LIMITS, UPLOAD_ENDPOINT],
});
