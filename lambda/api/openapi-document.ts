/**
 * The REST API's OpenAPI 3 document, made from the operations that `API_OPERATIONS` lists (each
 * written beside its handler) and the capabilities' schemas. API Gateway is built from the same
 * operations, local mode routes by them and the tests check every response against the
 * document. Schemas keep to the JSON Schema subset that API Gateway models accept (draft 4).
 */

import { algorithmsSchemas } from '../algorithms/schemas';
import { schemaRef, SchemaRef } from '../contracts/handler-deployment';
import { API_OPERATIONS } from '../deployments';
import { buildsSchemas } from '../builds/schemas';
import { imagesSchemas } from '../images/schemas';
import { jobsSchemas } from '../jobs/schemas';
import { sessionsSchemas } from '../sessions/schemas';
import { uploadsSchemas } from '../uploads/schemas';
import { commonSchemas } from './common-schemas';
import { JsonSchema, uuid } from '../contracts/schema-primitives';

export const schemas: Readonly<Record<string, JsonSchema>> = {
  ...commonSchemas,
  ...uploadsSchemas,
  ...imagesSchemas,
  ...algorithmsSchemas,
  ...buildsSchemas,
  ...jobsSchemas,
  ...sessionsSchemas,
};

/** The answers of every operation that is not public, besides its own. */
const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 429];

/** The document as served at `GET /v1/openapi.json`. */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of API_OPERATIONS) {
    const { path } = operation;
    const parameters = [
      ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: uuid,
      })),
      ...(operation.parameters ?? []).map(({ name, in: where, description, schema, required }) => ({
        name,
        in: where,
        description,
        required: required ?? false,
        schema,
      })),
    ];
    const responses: Record<number, SchemaRef> = {
      ...operation.responses,
      ...(!operation.public &&
        Object.fromEntries(ERROR_STATUSES.map((status) => [status, commonSchemaRef('Error')]))),
    };
    paths[path] ??= {};
    paths[path][operation.method.toLowerCase()] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.public ? { security: [] } : {}),
      ...(parameters.length > 0 && { parameters }),
      ...(operation.requestSchema && {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: `#/components/schemas/${operation.requestSchema.name}` } },
          },
        },
      }),
      responses: Object.fromEntries(
        Object.entries(responses).map(([status, { name }]) => [
          status,
          {
            description: name,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Imaging platform API', version: '1' },
    ...(serverUrl && { servers: [{ url: serverUrl }] }),
    security: [{ cognito: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Cognito ID token' },
      },
    },
  };
}

function commonSchemaRef(name: keyof typeof commonSchemas): SchemaRef {
  return schemaRef(commonSchemas, name);
}
