import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

/** `GET /v1/jobs`. */
export const listJobsOperation: ApiOperation = {
  operationId: 'listJobs',
  method: 'GET',
  path: '/v1/jobs',
  summary: "The caller's jobs, or all jobs of an algorithm they edit (algorithm, status, limit, nextToken)",
  queryParameters: ['algorithm', 'status', 'limit', 'nextToken'],
  responses: { 200: schemaRef(jobsSchemas, 'JobList') },
  handler: 'jobs/list-jobs',
  permissions: {
    // An editor naming their algorithm lists its jobs; everyone else their own.
    tables: { algorithms: ['dynamodb:GetItem'] },
    indexQueries: { jobs: ['byOwner', 'byAlgorithm'] },
  },
};
