import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

/** `GET /v1/jobs/{jobId}/logs`. */
export const getJobLogsOperation: ApiOperation = {
  operationId: 'getJobLogs',
  method: 'GET',
  path: '/v1/jobs/{jobId}/logs',
  summary: 'Editors of the algorithm: the last 500 lines the container wrote',
  responses: { 200: schemaRef(jobsSchemas, 'JobLogs') },
  handler: 'jobs/get-job-logs',
  permissions: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    readsJobLogs: true,
  },
};
