import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/set-algorithm-users',
  'PUT /v1/algorithms/{algorithmId}/users',
  {
    summary: 'Editors only: who edits the algorithm and who may run it',
    requestSchema: schemaRef(algorithmsSchemas, 'SetAlgorithmUsersRequest'),
    responses: { 200: schemaRef(algorithmsSchemas, 'Algorithm') },
    permissions: {
      // getEditableAlgorithm, the conditional updateAlgorithm, then members added and removed.
      tables: {
        algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        memberships: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      },
    },
  },
);
