import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { commonSchemas } from '../common-schemas';

export const operation = apiOperation('api/get-health', 'GET /v1/health', {
  summary: 'Whether the API answers',
  public: true,
  responses: { 200: schemaRef(commonSchemas, 'Health') },
  permissions: {},
});
