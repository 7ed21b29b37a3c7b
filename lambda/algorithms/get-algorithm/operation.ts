import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation('algorithms/get-algorithm', 'GET /v1/algorithms/{algorithmId}', {
  summary: 'Read an algorithm',
  responses: { 200: schemaRef(algorithmsSchemas, 'Algorithm') },
  permissions: { tables: { algorithms: ['dynamodb:GetItem'] } },
});
