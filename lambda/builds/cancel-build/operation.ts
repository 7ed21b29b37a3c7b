import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { buildsSchemas } from '../schemas';

export const operation = apiOperation(
  'builds/cancel-build',
  'POST /v1/algorithms/{algorithmId}/builds/{buildId}/cancel',
  {
    summary:
      'Editors only: cancel a build that has not ended, stopping its pipeline execution and CodeBuild build',
    responses: { 200: schemaRef(buildsSchemas, 'Build') },
    permissions: {
      // The build's end gives its creator's slot back; a Pending build's upload is aborted and a
      // Queued one's removed, their quota returned; a build past CodeBuild's start leaves no
      // candidate image.
      tables: {
        algorithms: ['dynamodb:GetItem'],
        builds: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        usage: ['dynamodb:UpdateItem'],
        uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      },
      imagingObjects: [
        {
          prefix: UPLOADS_PREFIX,
          actions: ['s3:AbortMultipartUpload', 's3:PutObjectTagging', 's3:DeleteObject'],
        },
      ],
      runsBuilds: ['stop'],
      managesBuildImages: ['remove'],
    },
  },
);
