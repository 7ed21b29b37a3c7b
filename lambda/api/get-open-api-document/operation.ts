import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { commonSchemas } from '../common-schemas';

export const operation = apiOperation('api/get-open-api-document', 'GET /v1/openapi.json', {
  summary: 'This document',
  public: true,
  responses: { 200: schemaRef(commonSchemas, 'OpenApiDocument') },
  permissions: {},
});
