import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/create-algorithm-version',
  'POST /v1/algorithms/{algorithmId}/versions',
  {
    summary: 'Editors only: add a container image version, which becomes the active one',
    requestSchema: schemaRef(algorithmsSchemas, 'CreateAlgorithmVersionRequest'),
    responses: { 201: schemaRef(algorithmsSchemas, 'AlgorithmVersion') },
    permissions: {
      tables: {
        algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
      },
      activatesVersions: true,
      // The version it retires, if a build made its image, is retagged for the repository's lifecycle.
      managesBuildImages: ['tag', 'remove'],
    },
  },
);
