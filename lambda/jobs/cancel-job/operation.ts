import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/cancel-job', 'POST /v1/jobs/{jobId}/cancel', {
  summary:
    'Stop a job that has not ended; asked again for a job it cancelled, it stops it again and answers the same (one that ended otherwise is a 409)',
  responses: { 200: schemaRef(jobsSchemas, 'Job') },
  permissions: {
    tables: {
      jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithms: ['dynamodb:GetItem'],
      activeJobs: ['dynamodb:UpdateItem'],
    },
    terminatesJobs: true,
  },
});
