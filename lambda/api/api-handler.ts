import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from '../core/logger';
import { ApiError, badRequest } from './api-error';
import { Caller, callerOf } from './caller';
import { operations } from './openapi-document';
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
 * Wraps one operation of the OpenAPI document as a Lambda handler: identifies the caller,
 * checks path ids and the body against the document before `run` is called, logs with the
 * request id and user id, and turns ApiErrors into 4xx answers. Anything else is a 500 whose
 * details stay in the log.
 */
export function apiHandler<TBody = undefined>(
  operationId: string,
  run: (request: ApiRequest<TBody>) => Promise<ApiResponse>,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const operation = Object.values(operations)
    .flatMap((methods) => Object.values(methods))
    .find((o) => o.operationId === operationId);
  if (!operation) throw new Error(`operation ${operationId} is not in the OpenAPI document`);

  return async (event, context) => {
    logger.resetKeys();
    logger.appendKeys({ requestId: event.requestContext?.requestId ?? context?.awsRequestId, operationId });
    try {
      const caller = callerOf(event);
      logger.appendKeys({ userId: caller.userId });
      const pathParameters = event.pathParameters ?? {};
      for (const [name, value] of Object.entries(pathParameters)) {
        if (!value || !UUID.test(value)) throw badRequest(`path parameter ${name} must be a lower-case UUID`);
      }
      const body = operation.requestSchema
        ? parseJsonBody<TBody>(event.body, event.isBase64Encoded, operation.requestSchema)
        : (undefined as TBody);
      const response = await run({
        caller,
        body,
        pathParameters: pathParameters as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        headers: lowerCaseKeys(event.headers ?? {}),
      });
      return json(response.status, response.body, event);
    } catch (err) {
      if (err instanceof ApiError) {
        logger.info('request refused', { status: err.status, code: err.code, reason: err.message });
        return json(err.status, { error: { code: err.code, message: err.message } }, event);
      }
      logger.error('request failed', { error: err as Error });
      return json(
        500,
        { error: { code: 'InternalError', message: 'the request failed; it has been logged' } },
        event,
      );
    }
  };
}

/** Browser origins allowed to read answers, from WEB_ORIGINS (comma-separated). */
const webOrigins = new Set((process.env.WEB_ORIGINS ?? '').split(',').filter(Boolean));

function json(statusCode: number, body: unknown, event: APIGatewayProxyEvent): APIGatewayProxyResult {
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
