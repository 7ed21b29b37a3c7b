import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { pageParameters } from '../../contracts/page-parameters';
import { buildsSchemas } from '../schemas';

export const operation = apiOperation('builds/list-builds', 'GET /v1/algorithms/{algorithmId}/builds', {
  summary: "Editors only: the algorithm's builds, a page at a time (limit, nextToken)",
  parameters: pageParameters({ defaultLimit: 25, maxLimit: 100, maxTokenLength: 200 }),
  responses: { 200: schemaRef(buildsSchemas, 'BuildList') },
  permissions: {
    tables: { algorithms: ['dynamodb:GetItem'], builds: ['dynamodb:Query'] },
    signsPageTokens: true,
  },
});
