import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/list-jobs', 'GET /v1/jobs', {
  summary: "The caller's jobs, or all jobs of an algorithm they edit (algorithm, status, limit, nextToken)",
  queryParameters: ['algorithm', 'status', 'limit', 'nextToken'],
  responses: { 200: schemaRef(jobsSchemas, 'JobList') },
  permissions: {
    // An editor naming their algorithm lists its jobs; everyone else their own.
    tables: { algorithms: ['dynamodb:GetItem'] },
    indexQueries: { jobs: ['byOwner', 'byAlgorithm'] },
    signsPageTokens: true,
  },
});
