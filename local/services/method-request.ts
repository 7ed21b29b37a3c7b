import Ajv, { ValidateFunction } from 'ajv-draft-04';
import { ApiOperation } from '../../lambda/contracts/handler-deployment';
import { MODEL_CONTENT_TYPE, requestModels, requestParameters } from '../../lambda/contracts/method-request';
import { gatewayErrors } from './gateway-responses';

/** The parts of a request that API Gateway's request validator looks at. */
export interface MethodRequest {
  /** Raw (still percent-encoded) values of the path template's parameters. */
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

// As API Gateway's validator: JSON Schema draft 4, every error found, formats it does not know ignored.
const ajv = new Ajv({ strict: false, allErrors: true });

/**
 * The check API Gateway's request validator makes of an operation's requests, from the same
 * method request the REST API is built from: required parameters there and not blank, then the
 * body against the model of its content type. Throws the gateway's error; passes otherwise.
 */
export function methodRequestCheck(operation: ApiOperation): (request: MethodRequest) => void {
  const required = Object.entries(requestParameters(operation))
    .filter(([, isRequired]) => isRequired)
    .map(([key]) => key)
    .sort();
  const models = new Map<string, ValidateFunction>(
    Object.entries(requestModels(operation)).map(([contentType, schema]) => [
      contentType,
      ajv.compile(schema),
    ]),
  );
  return (request) => {
    const missing = required.filter((key) => isBlank(parameterValue(key, request))).map(parameterName);
    if (missing.length > 0) throw gatewayErrors.missingParameters(missing);
    const validate = modelFor(models, headerValue(request.headers, 'content-type'));
    if (!validate) return;
    const body = parsedBody(request.body);
    if (!body.parsed || !validate(body.value)) throw gatewayErrors.invalidBody();
  };
}

/**
 * The model API Gateway picks by the request's content type: without one it takes the JSON
 * type; a type is its media type, parameters (`; charset=utf-8`) and case aside; a type with no
 * model takes the `$default` model if there is one, and is not checked otherwise.
 */
function modelFor(models: ReadonlyMap<string, ValidateFunction>, contentType: string | undefined) {
  const mediaType = contentType?.trim() ? contentType.split(';')[0].trim().toLowerCase() : MODEL_CONTENT_TYPE;
  return models.get(mediaType) ?? models.get('$default');
}

/** The body as the validator reads it: an empty body as `{}`; text that is not JSON fails. */
function parsedBody(body: Buffer): { parsed: true; value: unknown } | { parsed: false } {
  if (body.length === 0) return { parsed: true, value: {} };
  try {
    // API Gateway treats the body as UTF-8 text (the API declares no binary media types).
    return { parsed: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { parsed: false };
  }
}

function parameterValue(key: string, request: MethodRequest): string | undefined {
  const [, where, name] = key.match(/^method\.request\.(path|querystring|header)\.(.+)$/)!;
  if (where === 'path') return request.pathParameters[name];
  if (where === 'querystring') return request.query[name];
  return headerValue(request.headers, name);
}

const parameterName = (key: string) => key.replace(/^method\.request\.(path|querystring|header)\./, '');

const isBlank = (value: string | undefined) => value === undefined || value.trim() === '';

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.entries(headers).find(([key]) => key.toLowerCase() === lower)?.[1];
}
