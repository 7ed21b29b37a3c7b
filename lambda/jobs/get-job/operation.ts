import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/get-job', 'GET /v1/jobs/{jobId}', {
  summary: 'A job with its outputs, files as signed URLs',
  responses: { 200: schemaRef(jobsSchemas, 'Job') },
  permissions: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    signsImageUrls: true,
  },
});
