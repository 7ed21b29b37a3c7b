import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

/** `GET /v1/algorithms/{algorithmId}`. */
export const getAlgorithmOperation: ApiOperation = {
  operationId: 'getAlgorithm',
  method: 'GET',
  path: '/v1/algorithms/{algorithmId}',
  summary: 'Read an algorithm',
  responses: { 200: schemaRef(algorithmsSchemas, 'Algorithm') },
  handler: 'algorithms/get-algorithm',
  permissions: { tables: { algorithms: ['dynamodb:GetItem'] } },
};
