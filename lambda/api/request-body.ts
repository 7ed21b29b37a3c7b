import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { badRequest, payloadTooLarge } from './api-error';
import { JsonSchema } from '../contracts/schema-primitives';

/** Largest JSON body a route accepts; API Gateway's own limit is 10 MB. */
export const MAX_BODY_BYTES = 1024 * 1024;

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<JsonSchema, ValidateFunction>();

function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * The request body, parsed and checked against its OpenAPI schema before any handler logic:
 * valid UTF-8, within the size limit, well-formed JSON, the schema's types, required and
 * unknown fields. Errors name the offending field.
 */
export function parseJsonBody<T>(
  raw: string | null | undefined,
  isBase64Encoded: boolean,
  schema: JsonSchema,
): T {
  if (raw === null || raw === undefined || raw === '') throw badRequest('the request needs a JSON body');
  const bytes = Buffer.from(raw, isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw payloadTooLarge(`the body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`);
  }
  const validate = validatorFor(schema);
  if (!validate(value)) throw badRequest(describe(validate.errors![0]));
  return value as T;
}

function describe(error: ErrorObject): string {
  const where = `body${error.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}.${(error.params as { additionalProperty: string }).additionalProperty} is not a known field`;
    case 'required':
      return `${where}.${(error.params as { missingProperty: string }).missingProperty} is required`;
    case 'pattern':
      return `${where} has characters or a form that is not allowed`;
    default:
      return `${where} ${error.message}`;
  }
}
