import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { pageParameters } from '../../contracts/page-parameters';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/list-algorithm-models',
  'GET /v1/algorithms/{algorithmId}/models',
  {
    summary: "Editors only: the algorithm's models, a page at a time (limit, nextToken)",
    parameters: pageParameters({ defaultLimit: 25, maxLimit: 100, maxTokenLength: 200 }),
    responses: { 200: schemaRef(algorithmsSchemas, 'AlgorithmModelList') },
    permissions: {
      tables: { algorithms: ['dynamodb:GetItem'], algorithmModels: ['dynamodb:Query'] },
      signsPageTokens: true,
    },
  },
);
