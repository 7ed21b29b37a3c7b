import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

/** `GET /v1/algorithms`. */
export const listAlgorithmsOperation: ApiOperation = {
  operationId: 'listAlgorithms',
  method: 'GET',
  path: '/v1/algorithms',
  summary: 'Algorithms the caller edits or may run, a page at a time (limit, nextToken)',
  queryParameters: ['limit', 'nextToken'],
  responses: { 200: schemaRef(algorithmsSchemas, 'AlgorithmList') },
  handler: 'algorithms/list-algorithms',
  permissions: {
    // A page of the caller's memberships, then each algorithm item, which is the authority.
    tables: { memberships: ['dynamodb:Query'], algorithms: ['dynamodb:GetItem'] },
  },
};
