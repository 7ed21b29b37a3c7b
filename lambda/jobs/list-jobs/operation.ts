import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { pageParameters } from '../../contracts/page-parameters';
import { uuid } from '../../contracts/schema-primitives';
import { JOB_STATUSES, jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/list-jobs', 'GET /v1/jobs', {
  summary: "The caller's jobs, or all jobs of an algorithm they edit (algorithm, status, limit, nextToken)",
  parameters: [
    {
      name: 'algorithm',
      in: 'query',
      description:
        "Only this algorithm's jobs: all of them for its editors, the caller's own for anyone else",
      schema: uuid,
    },
    {
      name: 'status',
      in: 'query',
      description: 'Only jobs in this state',
      schema: { type: 'string', enum: [...JOB_STATUSES] },
    },
    ...pageParameters({ defaultLimit: 25, maxLimit: 100, maxTokenLength: 2000 }),
  ],
  responses: { 200: schemaRef(jobsSchemas, 'JobList') },
  permissions: {
    // An editor naming their algorithm lists its jobs; everyone else their own.
    tables: { algorithms: ['dynamodb:GetItem'] },
    indexQueries: { jobs: ['byOwner', 'byAlgorithm'] },
    signsPageTokens: true,
  },
});
