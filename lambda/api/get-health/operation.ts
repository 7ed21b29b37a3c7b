import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { commonSchemas } from '../common-schemas';

/** `GET /v1/health`. */
export const getHealthOperation: ApiOperation = {
  operationId: 'getHealth',
  method: 'GET',
  path: '/v1/health',
  summary: 'Whether the API answers',
  public: true,
  responses: { 200: schemaRef(commonSchemas, 'Health') },
  handler: 'api/get-health',
  permissions: {},
};
