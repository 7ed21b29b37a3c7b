import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ApiOperation } from '../../lambda/contracts/handler-deployment';
import { claimsForAuthorization } from '../dev-users';
import { FunctionError } from '../functions/local-function';
import { FrontDoorRequest, FrontDoorResponse, FrontDoorRoute } from './api-gateway';
import { gatewayErrors } from './gateway-responses';
import { methodRequestCheck } from './method-request';

type Claims = Readonly<Record<string, string>>;

/** Invokes an operation's function with an API Gateway proxy event. */
export type InvokeOperation = (
  operation: ApiOperation,
  event: APIGatewayProxyEvent,
) => Promise<APIGatewayProxyResult>;

/**
 * A front door route for every operation, in the order API Gateway takes a request: the Cognito
 * authorizer (a development token stands for an ID token), then the request validator (required
 * parameters, the body against the model of its content type), then the proxy integration, which
 * invokes the operation's function with the event API Gateway would build. `overrides` answer in
 * place of a function.
 */
export function apiRoutes(
  operations: readonly ApiOperation[],
  invoke: InvokeOperation,
  overrides: Readonly<Record<string, FrontDoorRoute['handle']>> = {},
): FrontDoorRoute[] {
  return operations.map((operation) => {
    const checkRequest = methodRequestCheck(operation);
    const integration: (request: FrontDoorRequest, claims?: Claims) => Promise<FrontDoorResponse> =
      overrides[operation.operationId] ??
      (async (request, claims) => {
        let result: APIGatewayProxyResult;
        try {
          result = await invoke(operation, proxyEvent(request, claims));
        } catch (err) {
          // A function that fails or times out instead of answering.
          if (!(err instanceof FunctionError)) throw err;
          console.error(`${operation.operationId} failed: ${err.name}: ${err.message}`);
          throw gatewayErrors.functionFailed();
        }
        return proxyResponse(operation, result);
      });
    const handle = async (request: FrontDoorRequest): Promise<FrontDoorResponse> => {
      const claims = operation.public
        ? undefined
        : claimsForAuthorization(headerOf(request, 'authorization'));
      if (!operation.public && !claims) throw gatewayErrors.unauthorized();
      checkRequest(request);
      return integration(request, claims);
    };
    return { method: operation.method, path: operation.path, handle };
  });
}

function proxyEvent(request: FrontDoorRequest, claims: Claims | undefined): APIGatewayProxyEvent {
  const some = <T extends object>(values: T) => (Object.keys(values).length > 0 ? values : null);
  // The API declares no binary media types: API Gateway hands every body over as UTF-8 text.
  const body = request.body.length > 0 ? request.body.toString('utf8') : null;
  return {
    resource: request.resource,
    path: request.path,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders as Record<string, string[]>,
    queryStringParameters: some(request.query),
    multiValueQueryStringParameters: some(request.multiValueQuery as Record<string, string[]>),
    pathParameters: some(request.pathParameters),
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      resourcePath: request.resource,
      httpMethod: request.method,
      path: `/local${request.rawPath}`,
      stage: 'local',
      authorizer: claims ? { claims } : undefined,
      identity: { sourceIp: request.sourceIp },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

/** The function's result as API Gateway answers it; one that is not a proxy result is a 502. */
function proxyResponse(operation: ApiOperation, result: APIGatewayProxyResult): FrontDoorResponse {
  if (
    typeof result !== 'object' ||
    result === null ||
    !Number.isInteger(result.statusCode) ||
    (result.body !== undefined && typeof result.body !== 'string')
  ) {
    console.error(`${operation.operationId} answered a malformed Lambda proxy response`);
    throw gatewayErrors.functionFailed();
  }
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.join(',');
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  return {
    status: result.statusCode,
    body: result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''),
    headers,
  };
}

function headerOf(request: FrontDoorRequest, name: string): string | undefined {
  return Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)?.[1];
}
