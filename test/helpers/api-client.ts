import Ajv from 'ajv';
import { openApiDocument } from '../../lambda/api/openapi-document';

interface DocumentOperation {
  readonly responses: Record<string, { content: { 'application/json': { schema: { $ref: string } } } }>;
}
const document = openApiDocument() as { paths: Record<string, Record<string, DocumentOperation>> };
// The whole document as one schema, so that references between its schemas resolve.
const ajv = new Ajv({ strict: false });
ajv.addSchema(document, 'openapi');

export interface ApiCallResult {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * Calls the local API as a user's script would, and checks every answer against the OpenAPI
 * document: the status must be one the operation declares, the body must match its schema.
 */
export function apiClient(baseUrl: string) {
  return async function call(
    method: string,
    pathTemplate: string,
    options: {
      token?: string;
      params?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
      rawBody?: string | Buffer;
      /**
       * The body's type. Another than JSON (`text/plain`) has no model: API Gateway hands such a
       * body to the handler unchecked, so the handler's own checks answer.
       * @default 'application/json'
       */
      contentType?: string;
    } = {},
  ): Promise<ApiCallResult> {
    const path = pathTemplate.replace(
      /\{(\w+)\}/g,
      (_, name: string) => options.params?.[name] ?? `{${name}}`,
    );
    const search = options.query ? `?${new URLSearchParams(options.query)}` : '';
    const response = await fetch(`${baseUrl}${path}${search}`, {
      method,
      headers: {
        'content-type': options.contentType ?? 'application/json',
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    const body = JSON.parse(text);
    checkAnswer(method, pathTemplate, response.status, body);
    return { status: response.status, body };
  };
}

/** API Gateway's answer to a body that does not match its operation's model. */
export const INVALID_BODY = {
  status: 400,
  body: { error: { code: 'BadRequest', message: 'Invalid request body' } },
} as const;

/** For a body that API Gateway does not check, so that the handler's own check answers. */
export const UNCHECKED_BODY = { contentType: 'text/plain' } as const;

/**
 * Checks an answer against the OpenAPI document: the status must be one that the operation at
 * `pathTemplate` declares, and the body must match that status's schema.
 */
export function checkAnswer(method: string, pathTemplate: string, status: number, body: unknown): void {
  const operation = document.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${pathTemplate} is not in the OpenAPI document`);
  const schemaRef = operation.responses[status]?.content['application/json'].schema.$ref;
  if (!schemaRef) {
    throw new Error(
      `${method} ${pathTemplate} answered ${status}, which the document does not declare: ${JSON.stringify(body)}`,
    );
  }
  if (!ajv.validate({ $ref: `openapi${schemaRef}` }, body)) {
    throw new Error(
      `${method} ${pathTemplate} answered a body that does not match ${schemaRef}: ${ajv.errorsText()}`,
    );
  }
}
