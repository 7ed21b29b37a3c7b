import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { uploadsSchemas } from '../schemas';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { UPLOAD_LIMITS, UPLOAD_ENDPOINT } from '../../contracts/upload-limits';

/** `POST /v1/uploads/{uploadId}/parts`. */
export const signUploadPartsOperation: ApiOperation = {
  operationId: 'signUploadParts',
  method: 'POST',
  path: '/v1/uploads/{uploadId}/parts',
  summary: 'Presigned URLs, each good for one part of the exact part size for a limited time',
  requestSchema: schemaRef(uploadsSchemas, 'UploadPartsRequest'),
  responses: { 200: schemaRef(uploadsSchemas, 'UploadPartUrls') },
  handler: 'uploads/sign-upload-parts',
  permissions: {
    tables: { uploads: ['dynamodb:GetItem'] },
    // A presigned UploadPart URL acts with this role's permissions when the uploader uses it.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject'] }],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [UPLOAD_LIMITS, UPLOAD_ENDPOINT],
};
