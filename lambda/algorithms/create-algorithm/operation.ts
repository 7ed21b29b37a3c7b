import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation('algorithms/create-algorithm', 'POST /v1/algorithms', {
  summary:
    'Register an algorithm: interfaces, limits, GPU choice and, optionally, its first container image (else push a build)',
  requestSchema: schemaRef(algorithmsSchemas, 'CreateAlgorithmRequest'),
  responses: { 201: schemaRef(algorithmsSchemas, 'Algorithm') },
  permissions: {
    // putVersion checks the digest with a query of the algorithm's versions before it writes;
    // syncMemberships only adds members of a new algorithm.
    tables: {
      algorithms: ['dynamodb:PutItem'],
      algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
      memberships: ['dynamodb:PutItem'],
    },
    activatesVersions: true,
  },
});
