import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';
import { JOB_LIMITS } from '../../contracts/job-queues';

/** `POST /v1/jobs/{jobId}/cancel`. */
export const cancelJobOperation: ApiOperation = {
  operationId: 'cancelJob',
  method: 'POST',
  path: '/v1/jobs/{jobId}/cancel',
  summary: 'Stop a job that has not ended',
  responses: { 200: schemaRef(jobsSchemas, 'Job') },
  handler: 'jobs/cancel-job',
  permissions: {
    tables: {
      jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithms: ['dynamodb:GetItem'],
      activeJobs: ['dynamodb:UpdateItem'],
    },
    terminatesJobs: true,
  },
  settings: [JOB_LIMITS],
};
