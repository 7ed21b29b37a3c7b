import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { handlerEntry, handlerFolder } from '../lib/core/handler-folder';
import { listOperations } from '../lambda/api/openapi-document';
import { claimsForAuthorization } from './dev-users';
import { apiError, FrontDoorRequest, FrontDoorResponse, FrontDoorRoute } from './front-door';

type LambdaHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * A front door route for every operation of the OpenAPI document, each running the deployed
 * handler with the event API Gateway would build, claims from a development token included.
 * Handlers are loaded on first use, after local mode has set their environment.
 */
export function apiRoutes(
  overrides: Readonly<Record<string, FrontDoorRoute['handle']>> = {},
): FrontDoorRoute[] {
  return listOperations().map(({ path: template, method, operation }) => {
    let loaded: LambdaHandler | undefined;
    const handle =
      overrides[operation.operationId] ??
      (async (request: FrontDoorRequest): Promise<FrontDoorResponse> => {
        const claims = claimsForAuthorization(request.headers.authorization);
        if (!operation.public && !claims) {
          return { status: 401, body: apiError('Unauthorized', 'a valid Bearer token is required') };
        }
        loaded ??= loadHandler<LambdaHandler>(handlerFolder(operation.operationId));
        const result = await loaded(proxyEvent(template, request, claims));
        return {
          status: result.statusCode,
          body: result.body,
          headers: result.headers as Record<string, string>,
        };
      });
    return { method: method.toUpperCase(), path: template, handle };
  });
}

/** The handler of `lambda/<folder>/`, loaded as Lambda loads its bundle. */
export function loadHandler<T = LambdaHandler>(folder: string): T {
  const file = handlerEntry(folder);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(file) as { handler: T }).handler;
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
