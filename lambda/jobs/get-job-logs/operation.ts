import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/get-job-logs', 'GET /v1/jobs/{jobId}/logs', {
  summary: 'Editors of the algorithm: the last 500 lines the container wrote',
  responses: { 200: schemaRef(jobsSchemas, 'JobLogs') },
  permissions: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    readsJobLogs: true,
  },
});
