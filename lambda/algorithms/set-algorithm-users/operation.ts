import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

/** `PUT /v1/algorithms/{algorithmId}/users`. */
export const setAlgorithmUsersOperation: ApiOperation = {
  operationId: 'setAlgorithmUsers',
  method: 'PUT',
  path: '/v1/algorithms/{algorithmId}/users',
  summary: 'Editors only: who edits the algorithm and who may run it',
  requestSchema: schemaRef(algorithmsSchemas, 'SetAlgorithmUsersRequest'),
  responses: { 200: schemaRef(algorithmsSchemas, 'Algorithm') },
  handler: 'algorithms/set-algorithm-users',
  permissions: {
    // getEditableAlgorithm, the conditional updateAlgorithm, then members added and removed.
    tables: {
      algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      memberships: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    },
  },
};
