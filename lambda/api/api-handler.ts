import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiOperation } from '../contracts/handler-deployment';
import { WEB_ORIGINS } from '../contracts/web-origins';
import { withInvocationMetrics } from '../core/business-metrics';
import { logger, withInvocationKeys } from '../core/logger';
import { ApiError, badRequest } from './api-error';
import { Caller, callerOf } from './caller';
import { parseJsonBody } from './request-body';

export interface ApiRequest<TBody> {
  readonly caller: Caller;
  readonly body: TBody;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Wraps one operation of the REST API as a Lambda handler. Per request it identifies the caller, checks path ids and the body against the operation's schema before `run` is called,
 * logs with the request id, operation id and user id (of this request only), and turns ApiErrors into 4xx answers. Anything else is a
 * 500 whose details stay in the log. The business metrics the request recorded are published when it ends.
 */
export function apiHandler<TBody = undefined>(
  operation: ApiOperation,
  run: (request: ApiRequest<TBody>) => Promise<ApiResponse>,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  return handlerOf(
    operation,
    (event) => {
      const caller = callerOf(event);
      logger.appendKeys({ userId: caller.userId });
      return caller;
    },
    run,
  );
}

/**
 * As `apiHandler`, for a public operation: no Cognito identity; `run` checks whatever the request
 * carries instead (a viewer's session credential).
 */
export function publicApiHandler<TBody = undefined>(
  operation: ApiOperation,
  run: (request: Omit<ApiRequest<TBody>, 'caller'>) => Promise<ApiResponse>,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  if (!operation.public) throw new Error(`${operation.operationId} is not public: use apiHandler`);
  return handlerOf(operation, () => undefined, run);
}

function handlerOf<TBody, C>(
  operation: ApiOperation,
  identify: (event: APIGatewayProxyEvent) => C,
  run: (request: Omit<ApiRequest<TBody>, 'caller'> & { caller: C }) => Promise<ApiResponse>,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const { operationId } = operation;
  const webOrigins = new Set(WEB_ORIGINS.read().webOrigins);

  return (event, context) =>
    withInvocationKeys(
      { requestId: event.requestContext?.requestId ?? context?.awsRequestId, operationId },
      () => withInvocationMetrics(() => answer(event)),
    );

  async function answer(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      const caller = identify(event);
      const pathParameters = event.pathParameters ?? {};
      for (const [name, value] of Object.entries(pathParameters)) {
        if (!value || !UUID.test(value)) throw badRequest(`path parameter ${name} must be a lower-case UUID`);
      }
      const body = operation.requestSchema
        ? parseJsonBody<TBody>(event.body, event.isBase64Encoded, operation.requestSchema.schema)
        : (undefined as TBody);
      const response = await run({
        caller,
        body,
        pathParameters: pathParameters as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        headers: lowerCaseKeys(event.headers ?? {}),
      });
      return json(response.status, response.body, event, webOrigins);
    } catch (err) {
      if (err instanceof ApiError) {
        logger.info('request refused', { status: err.status, code: err.code, reason: err.message });
        return json(err.status, { error: { code: err.code, message: err.message } }, event, webOrigins);
      }
      logger.error('request failed', { error: err as Error });
      return json(
        500,
        { error: { code: 'InternalError', message: 'the request failed; it has been logged' } },
        event,
        webOrigins,
      );
    }
  }
}

/** The answer, readable by browsers of `webOrigins` only. */
function json(
  statusCode: number,
  body: unknown,
  event: APIGatewayProxyEvent,
  webOrigins: ReadonlySet<string>,
): APIGatewayProxyResult {
  const origin = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'origin')?.[1];
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...(origin && webOrigins.has(origin) && { 'access-control-allow-origin': origin, vary: 'Origin' }),
    },
    body: JSON.stringify(body),
  };
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}
