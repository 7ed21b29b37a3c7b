import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { JsonSchema } from '../../lambda/contracts/schema-primitives';

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
 * A schema of the OpenAPI document as an API Gateway model schema (JSON Schema draft 4). Fails on
 * a keyword that draft 4 lacks (`const`, `if`, `$ref` to the document's components, ...), since
 * API Gateway would reject the model or, worse, ignore the keyword and let the body through.
 */
export function requestModelSchema(name: string, schema: JsonSchema): apigateway.JsonSchema {
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, title: name, ...convert(schema, name) };
}

function convert(schema: JsonSchema, where: string): apigateway.JsonSchema {
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
  return out as apigateway.JsonSchema;
}
