/**
 * API Gateway's own answers (gateway responses), written once: the REST API synthesizes them from
 * here and local mode's front door renders them from here, so both answer alike.
 */

/** The gateway response types that the platform sets or that local mode gives. */
export type GatewayResponseType =
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX'
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'BAD_REQUEST_BODY'
  | 'BAD_REQUEST_PARAMETERS'
  | 'REQUEST_TOO_LARGE'
  | 'THROTTLED'
  | 'WAF_FILTERED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INTEGRATION_TIMEOUT';

/**
 * The status API Gateway gives each type when no gateway response sets one; the two defaults
 * carry the status of the error they stand in for.
 */
export const GATEWAY_STATUS: Readonly<Record<GatewayResponseType, number | undefined>> = {
  DEFAULT_4XX: undefined,
  DEFAULT_5XX: undefined,
  UNAUTHORIZED: 401,
  ACCESS_DENIED: 403,
  BAD_REQUEST_BODY: 400,
  BAD_REQUEST_PARAMETERS: 400,
  REQUEST_TOO_LARGE: 413,
  THROTTLED: 429,
  WAF_FILTERED: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  INTEGRATION_TIMEOUT: 504,
};

/** API Gateway's message, already a quoted JSON string, in a response template. */
export const MESSAGE_VARIABLE = '$context.error.messageString';

export interface GatewayResponseDefinition {
  /** The construct id of the response. */
  readonly id: string;
  readonly type: GatewayResponseType;
  /** The `code` of the API's error shape. */
  readonly code: string;
  /**
   * Replaces the status API Gateway gives this type.
   * @default - API Gateway's (`GATEWAY_STATUS`)
   */
  readonly statusCode?: number;
  /**
   * Replaces API Gateway's message.
   * @default - API Gateway's message
   */
  readonly message?: string;
}

export const GATEWAY_RESPONSES: readonly GatewayResponseDefinition[] = [
  { id: 'Default4xx', type: 'DEFAULT_4XX', code: 'RequestRefused' },
  { id: 'Default5xx', type: 'DEFAULT_5XX', code: 'InternalError' },
  { id: 'Unauthorized', type: 'UNAUTHORIZED', code: 'Unauthorized' },
  { id: 'AccessDenied', type: 'ACCESS_DENIED', code: 'Forbidden' },
  { id: 'BadRequestBody', type: 'BAD_REQUEST_BODY', code: 'BadRequest' },
  { id: 'BadRequestParameters', type: 'BAD_REQUEST_PARAMETERS', code: 'BadRequest' },
  { id: 'RequestTooLarge', type: 'REQUEST_TOO_LARGE', code: 'PayloadTooLarge' },
  { id: 'Throttled', type: 'THROTTLED', code: 'Throttled' },
  { id: 'WafFiltered', type: 'WAF_FILTERED', code: 'Forbidden' },
  // API Gateway reports a path or method that no route has as a missing token (403).
  {
    id: 'NoRoute',
    type: 'MISSING_AUTHENTICATION_TOKEN',
    code: 'NotFound',
    statusCode: 404,
    message: 'no route matches this method and path',
  },
];

/** The body template of a response: the API's error shape. */
export function gatewayResponseTemplate(response: GatewayResponseDefinition): string {
  const message = response.message === undefined ? MESSAGE_VARIABLE : JSON.stringify(response.message);
  return `{"error":{"code":${JSON.stringify(response.code)},"message":${message}}}`;
}

/**
 * The headers of every gateway response, as API Gateway mapping expressions (`'literal'`, or
 * `method.request.header.<name>`). Browsers show a page an answer only with CORS headers, errors
 * of API Gateway's own included (401, 403, 429, validation): with one origin it is named, with
 * several the caller's origin is echoed. These answers carry no user data, only why the request
 * was refused.
 */
export function gatewayResponseHeaders(webOrigins: readonly string[]): Readonly<Record<string, string>> {
  return {
    'Content-Type': "'application/json'",
    'Cache-Control': "'no-store'",
    ...(webOrigins.length > 0 && {
      'Access-Control-Allow-Origin':
        webOrigins.length === 1 ? `'${webOrigins[0]}'` : 'method.request.header.origin',
      Vary: "'Origin'",
    }),
  };
}

/**
 * The response API Gateway gives for `type`: its own, or else, as API Gateway falls back, the
 * default response of its class (4xx or 5xx), with the type's status.
 */
export function gatewayResponseFor(
  type: GatewayResponseType,
  status?: number,
): { readonly response: GatewayResponseDefinition; readonly status: number } {
  const own = GATEWAY_RESPONSES.find((r) => r.type === type);
  const typeStatus = status ?? GATEWAY_STATUS[type];
  if (typeStatus === undefined) throw new Error(`${type} needs a status`);
  const response =
    own ?? GATEWAY_RESPONSES.find((r) => r.type === (typeStatus >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'))!;
  return { response, status: own?.statusCode ?? typeStatus };
}
