import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ApiOperation } from '../../lambda/contracts/handler-deployment';
import { claimsForAuthorization } from '../dev-users';
import { FunctionError } from '../functions/local-function';
import { apiError, FrontDoorRequest, FrontDoorResponse, FrontDoorRoute } from './api-gateway';

/** Invokes an operation's function with an API Gateway proxy event. */
export type InvokeOperation = (
  operation: ApiOperation,
  event: APIGatewayProxyEvent,
) => Promise<APIGatewayProxyResult>;

/**
 * A front door route for every operation, each invoking its function with the event API Gateway
 * would build, claims from a development token included. `overrides` answer in place of a function.
 */
export function apiRoutes(
  operations: readonly ApiOperation[],
  invoke: InvokeOperation,
  overrides: Readonly<Record<string, FrontDoorRoute['handle']>> = {},
): FrontDoorRoute[] {
  return operations.map((operation) => {
    const handle =
      overrides[operation.operationId] ??
      (async (request: FrontDoorRequest): Promise<FrontDoorResponse> => {
        const claims = claimsForAuthorization(request.headers.authorization);
        if (!operation.public && !claims) {
          return { status: 401, body: apiError('Unauthorized', 'a valid Bearer token is required') };
        }
        try {
          const result = await invoke(operation, proxyEvent(operation.path, request, claims));
          return {
            status: result.statusCode,
            body: result.body,
            headers: result.headers as Record<string, string>,
          };
        } catch (err) {
          // API Gateway's answer when the function fails or times out instead of answering.
          if (err instanceof FunctionError) {
            console.error(`${operation.operationId} failed: ${err.name}: ${err.message}`);
            return { status: 502, body: { message: 'Internal server error' } };
          }
          throw err;
        }
      });
    return { method: operation.method, path: operation.path, handle };
  });
}

function proxyEvent(
  resource: string,
  request: FrontDoorRequest,
  claims: Readonly<Record<string, string>> | undefined,
): APIGatewayProxyEvent {
  const text = request.body.length > 0 ? decodeUtf8(request.body) : undefined;
  // API Gateway hands over bodies that are not text as base64, flagged.
  const body = request.body.length === 0 ? null : (text ?? request.body.toString('base64'));
  return {
    resource,
    path: request.rawPath,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(request.query).length > 0 ? request.query : null,
    multiValueQueryStringParameters: null,
    pathParameters: Object.keys(request.pathParameters).length > 0 ? request.pathParameters : null,
    stageVariables: null,
    body,
    isBase64Encoded: body !== null && text === undefined,
    requestContext: {
      requestId: randomUUID(),
      resourcePath: resource,
      httpMethod: request.method,
      path: `/local${request.rawPath}`,
      stage: 'local',
      authorizer: claims ? { claims } : undefined,
      identity: { sourceIp: request.sourceIp },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
