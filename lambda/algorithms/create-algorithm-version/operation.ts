import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

/** `POST /v1/algorithms/{algorithmId}/versions`. */
export const createAlgorithmVersionOperation: ApiOperation = {
  operationId: 'createAlgorithmVersion',
  method: 'POST',
  path: '/v1/algorithms/{algorithmId}/versions',
  summary: 'Editors only: add a container image version, which becomes the active one',
  requestSchema: schemaRef(algorithmsSchemas, 'CreateAlgorithmVersionRequest'),
  responses: { 201: schemaRef(algorithmsSchemas, 'AlgorithmVersion') },
  handler: 'algorithms/create-algorithm-version',
  permissions: {
    tables: {
      algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
    },
    activatesVersions: true,
  },
};
