import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/activate-algorithm-model',
  'POST /v1/algorithms/{algorithmId}/models/{modelId}/activate',
  {
    summary: "Editors only: make a Ready model the one the algorithm's jobs find at /opt/ml/model",
    responses: { 200: schemaRef(algorithmsSchemas, 'Algorithm') },
    permissions: {
      // The model is read, then the algorithm written on the revision it was read at.
      tables: {
        algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        algorithmModels: ['dynamodb:GetItem'],
      },
    },
  },
);
