import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { uploadsSchemas } from '../schemas';

export const operation = apiOperation('uploads/complete-upload', 'POST /v1/uploads/{uploadId}/complete', {
  summary: 'Finish an upload from its parts and their ETags',
  requestSchema: schemaRef(uploadsSchemas, 'CompleteUploadRequest'),
  responses: { 200: schemaRef(uploadsSchemas, 'Upload') },
  permissions: {
    // getOwnedUpload, then finishUpload's conditional update; a file of the wrong size is
    // deleted, and an upload gone from S3 aborted, and their quota returned.
    // A build's context upload queues its build, or cancels it when discarded.
    tables: {
      uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      usage: ['dynamodb:UpdateItem'],
      builds: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    },
    // CompleteMultipartUpload is authorized as s3:PutObject; HeadObject as s3:GetObject.
    imagingObjects: [
      {
        prefix: UPLOADS_PREFIX,
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
    queuesBuilds: true,
  },
});
