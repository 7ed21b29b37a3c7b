import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/get-algorithm-model',
  'GET /v1/algorithms/{algorithmId}/models/{modelId}',
  {
    summary: 'Editors only: a model of the algorithm, its state and, when it was refused, why',
    responses: { 200: schemaRef(algorithmsSchemas, 'AlgorithmModel') },
    permissions: { tables: { algorithms: ['dynamodb:GetItem'], algorithmModels: ['dynamodb:GetItem'] } },
  },
);
