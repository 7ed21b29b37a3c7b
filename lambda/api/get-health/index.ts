import type { APIGatewayProxyResult } from 'aws-lambda';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';

parseEnvironment(operation);

/** `GET /v1/health`: public; answers when API Gateway and Lambda do. */
export async function handler(): Promise<APIGatewayProxyResult> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({ status: 'ok' }),
  };
}
