import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { pageParameters } from '../../contracts/page-parameters';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation('algorithms/list-algorithms', 'GET /v1/algorithms', {
  summary: 'Algorithms the caller edits or may run, a page at a time (limit, nextToken)',
  parameters: pageParameters({ defaultLimit: 25, maxLimit: 50, maxTokenLength: 200 }),
  responses: { 200: schemaRef(algorithmsSchemas, 'AlgorithmList') },
  permissions: {
    // A page of the caller's memberships, then each algorithm item, which is the authority.
    tables: { memberships: ['dynamodb:Query'], algorithms: ['dynamodb:GetItem'] },
    signsPageTokens: true,
  },
});
