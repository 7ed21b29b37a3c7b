import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { BUILD_LIMITS } from '../../contracts/builds';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { buildsSchemas } from '../schemas';

export const operation = apiOperation('builds/create-build', 'POST /v1/algorithms/{algorithmId}/builds', {
  summary:
    'Editors only: push a build context (.zip, .tar.gz or .tgz with a Dockerfile): a multipart upload as POST /v1/uploads starts one, which queues the build when it completes',
  requestSchema: schemaRef(buildsSchemas, 'CreateBuildRequest'),
  responses: { 201: schemaRef(buildsSchemas, 'CreatedBuild') },
  permissions: {
    // The algorithm; a build slot and the upload's quota on the usage item (read to explain a
    // refusal); the upload, then the build. A build that cannot be stored aborts its upload.
    tables: {
      algorithms: ['dynamodb:GetItem'],
      usage: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      uploads: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      builds: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    },
    // CreateMultipartUpload is authorized as s3:PutObject; a failed start aborts what it began.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] }],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [UPLOAD_LIMITS, BUILD_LIMITS],
});
