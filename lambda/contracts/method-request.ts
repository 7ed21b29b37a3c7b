import type { ApiOperation } from './handler-deployment';
import type { JsonSchema } from './schema-primitives';

/**
 * What API Gateway checks of a request before an operation's handler runs (its method request),
 * written once: the REST API is synthesized from here and local mode's front door checks the
 * same. Required parameters must be there and not blank; a body whose content type has a model
 * must match the model.
 */

/** The one content type whose bodies are checked against an operation's request model. */
export const MODEL_CONTENT_TYPE = 'application/json';

/** The `$schema` of API Gateway models. */
export const JSON_SCHEMA_DRAFT_4 = 'http://json-schema.org/draft-04/schema#';

/**
 * The method request's parameters, as API Gateway names them, each to whether it is required:
 * every path parameter is, query string and header parameters as their operation declares.
 */
export function requestParameters(operation: ApiOperation): Readonly<Record<string, boolean>> {
  const path = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [
    `method.request.path.${name}`,
    true,
  ]);
  const declared = (operation.parameters ?? []).map((parameter) => [
    `method.request.${parameter.in === 'query' ? 'querystring' : 'header'}.${parameter.name}`,
    parameter.required ?? false,
  ]);
  return Object.fromEntries([...path, ...declared]);
}

/** The operation's request model by content type, as the REST API sets it. */
export function requestModels(operation: ApiOperation): Readonly<Record<string, JsonSchema>> {
  const { requestSchema } = operation;
  return requestSchema
    ? { [MODEL_CONTENT_TYPE]: requestModelSchema(requestSchema.name, requestSchema.schema) }
    : {};
}

/** Keywords of JSON Schema draft 4 whose values are plain values, not schemas. */
const VALUE_KEYWORDS = new Set([
  'type',
  'title',
  'description',
  'enum',
  'format',
  'default',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
]);
/** Keywords whose value is a schema, or (`items`) a list of schemas, or a boolean. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalItems', 'additionalProperties', 'not']);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions']);

/**
 * A schema of the OpenAPI document as an API Gateway model (JSON Schema draft 4). Fails on a
 * keyword that draft 4 lacks (`const`, `if`, `$ref` to the document's components, ...), since
 * API Gateway would reject the model or, worse, ignore the keyword and let the body through.
 */
export function requestModelSchema(name: string, schema: JsonSchema): JsonSchema {
  return { $schema: JSON_SCHEMA_DRAFT_4, title: name, ...convert(schema, name) };
}

function convert(schema: JsonSchema, where: string): JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    const at = `${where}.${keyword}`;
    if (VALUE_KEYWORDS.has(keyword)) {
      out[keyword] = value;
    } else if (SCHEMA_KEYWORDS.has(keyword)) {
      out[keyword] =
        typeof value === 'boolean'
          ? value
          : Array.isArray(value)
            ? value.map((item, i) => convert(item as JsonSchema, `${at}[${i}]`))
            : convert(value as JsonSchema, at);
    } else if (SCHEMA_LIST_KEYWORDS.has(keyword)) {
      out[keyword] = (value as JsonSchema[]).map((item, i) => convert(item, `${at}[${i}]`));
    } else if (SCHEMA_MAP_KEYWORDS.has(keyword)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, item]) => [
          name,
          convert(item, `${at}.${name}`),
        ]),
      );
    } else {
      throw new Error(
        `schema ${at}: "${keyword}" is not a JSON Schema draft 4 keyword that API Gateway models accept; ` +
          'keep the schemas of lambda/api/openapi-document.ts to draft 4 and inline references',
      );
    }
  }
  return out;
}
