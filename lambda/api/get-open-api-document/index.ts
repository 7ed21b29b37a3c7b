import type { APIGatewayProxyResult } from 'aws-lambda';
import { parseEnvironment } from '../../contracts/handler-environment';
import { openApiDocument } from '../openapi-document';
import { operation } from './operation';

parseEnvironment(operation);

const body = JSON.stringify(openApiDocument());

/** `GET /v1/openapi.json`: public, the same document that API Gateway was built from. */
export async function handler(): Promise<APIGatewayProxyResult> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' },
    body,
  };
}
