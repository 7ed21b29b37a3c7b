import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { commonSchemas } from '../common-schemas';

/** `GET /v1/openapi.json`. */
export const getOpenApiDocumentOperation: ApiOperation = {
  operationId: 'getOpenApiDocument',
  method: 'GET',
  path: '/v1/openapi.json',
  summary: 'This document',
  public: true,
  responses: { 200: schemaRef(commonSchemas, 'OpenApiDocument') },
  handler: 'api/get-open-api-document',
  permissions: {},
};
