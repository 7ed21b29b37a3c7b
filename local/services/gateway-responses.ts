import {
  GatewayResponseType,
  gatewayResponseFor,
  gatewayResponseHeaders,
  gatewayResponseTemplate,
  MESSAGE_VARIABLE,
} from '../../lambda/contracts/gateway-responses';

/** An answer of API Gateway's own, with API Gateway's message for it. */
export class GatewayError extends Error {
  constructor(
    readonly type: GatewayResponseType,
    message: string,
    /** The status, for the default types that stand in for another error (a 502 is `DEFAULT_5XX`). */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** What API Gateway says for each of its errors that the front door gives. */
export const gatewayErrors = {
  noRoute: () => new GatewayError('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token'),
  unauthorized: () => new GatewayError('UNAUTHORIZED', 'Unauthorized'),
  missingParameters: (names: readonly string[]) =>
    new GatewayError('BAD_REQUEST_PARAMETERS', `Missing required request parameters: [${names.join(', ')}]`),
  invalidBody: () => new GatewayError('BAD_REQUEST_BODY', 'Invalid request body'),
  tooLarge: () => new GatewayError('REQUEST_TOO_LARGE', 'Request Too Long'),
  /** The function failed or timed out, or answered what is not a proxy result. */
  functionFailed: () => new GatewayError('DEFAULT_5XX', 'Internal server error', 502),
  timedOut: () => new GatewayError('INTEGRATION_TIMEOUT', 'Endpoint request timed out'),
} as const;

export interface RenderedGatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * `error` as the REST API's gateway responses render it: the response of its type (or the
 * default of its class), its template with API Gateway's message, and its header mappings
 * evaluated against the request's headers.
 */
export function renderGatewayResponse(
  error: GatewayError,
  requestHeaders: Readonly<Record<string, string>>,
  webOrigins: readonly string[],
): RenderedGatewayResponse {
  const { response, status } = gatewayResponseFor(error.type, error.status);
  const headers: Record<string, string> = {};
  for (const [name, expression] of Object.entries(gatewayResponseHeaders(webOrigins))) {
    const value = mappedValue(expression, requestHeaders);
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const body = gatewayResponseTemplate(response).replace(MESSAGE_VARIABLE, () =>
    JSON.stringify(error.message),
  );
  return { status, headers, body };
}

/** The value of an API Gateway mapping expression: `'literal'` or `method.request.header.<name>`. */
function mappedValue(
  expression: string,
  requestHeaders: Readonly<Record<string, string>>,
): string | undefined {
  const literal = expression.match(/^'(.*)'$/);
  if (literal) return literal[1];
  const header = expression.match(/^method\.request\.header\.(.+)$/);
  if (header) {
    const name = header[1].toLowerCase();
    return Object.entries(requestHeaders).find(([key]) => key.toLowerCase() === name)?.[1];
  }
  throw new Error(`the front door cannot evaluate the mapping expression ${expression}`);
}
