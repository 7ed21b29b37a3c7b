import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { buildsSchemas } from '../schemas';

export const operation = apiOperation(
  'builds/get-build',
  'GET /v1/algorithms/{algorithmId}/builds/{buildId}',
  {
    summary:
      "Editors only: a build's status, timings, image and digest, the version it became, and the last 100 lines of its log",
    responses: { 200: schemaRef(buildsSchemas, 'Build') },
    permissions: {
      tables: { algorithms: ['dynamodb:GetItem'], builds: ['dynamodb:GetItem'] },
      readsBuildLogs: true,
    },
  },
);
