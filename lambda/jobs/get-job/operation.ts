import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

/** `GET /v1/jobs/{jobId}`. */
export const getJobOperation: ApiOperation = {
  operationId: 'getJob',
  method: 'GET',
  path: '/v1/jobs/{jobId}',
  summary: 'A job with its outputs, files as signed URLs',
  responses: { 200: schemaRef(jobsSchemas, 'Job') },
  handler: 'jobs/get-job',
  permissions: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    signsImageUrls: true,
  },
};
