import type { APIGatewayProxyEvent, CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { apiHandler, publicApiHandler } from '../../lambda/api/api-handler';
import { ApiOperation } from '../../lambda/contracts/handler-deployment';
import { backgroundHandler } from '../../lambda/core/background-handler';
import { customResourceHandler } from '../../lambda/core/cloudformation-response';
import { logger } from '../../lambda/core/logger';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../../lambda/deployments';

// Each wrapper is one warm handler here: the same module instance, invoked twice, as a Lambda
// execution environment invokes it. What the first invocation appended must not reach the second.

process.env.WEB_ORIGINS = 'https://app.example.org';
const operation = (operationId: string, extra: Partial<ApiOperation> = {}) =>
  ({ operationId, method: 'GET', path: '/v1/things/{thingId}', responses: {}, ...extra }) as ApiOperation;
const context = (awsRequestId: string) => ({ awsRequestId }) as Context;

let lines: Record<string, unknown>[];
let spies: jest.SpyInstance[];

beforeEach(() => {
  lines = [];
  logger.setLogLevel('INFO');
  // Powertools writes INFO lines to stdout and errors to stderr.
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    }),
  );
});

afterEach(() => spies.forEach((spy) => spy.mockRestore()));

/** The line logged with `message`: exactly one. */
function lineOf(message: string): Record<string, unknown> {
  const found = lines.filter((line) => line.message === message);
  expect(found).toHaveLength(1);
  return found[0];
}

function apiEvent(requestId: string, sub: string): APIGatewayProxyEvent {
  return {
    requestContext: { requestId, authorizer: { claims: { sub } } },
    pathParameters: { thingId: '0f8fad5b-d9cb-469f-a165-70867728950e' },
    headers: {},
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

describe('a warm function logs each invocation with its own keys only', () => {
  test('an API operation: the next request carries neither the user nor the keys the first appended', async () => {
    let call = 0;
    const handler = apiHandler(operation('getThing'), async () => {
      call++;
      if (call === 1) logger.appendKeys({ imageId: 'image-of-the-first-request' });
      logger.info(`request ${call}`);
      return { status: 200, body: {} };
    });
    expect((await handler(apiEvent('request-1', 'alice'), context('lambda-1'))).statusCode).toBe(200);
    expect((await handler(apiEvent('request-2', 'bob'), context('lambda-2'))).statusCode).toBe(200);

    expect(lineOf('request 1')).toMatchObject({
      requestId: 'request-1',
      operationId: 'getThing',
      userId: 'alice',
      imageId: 'image-of-the-first-request',
    });
    const second = lineOf('request 2');
    expect(second).toMatchObject({ requestId: 'request-2', operationId: 'getThing', userId: 'bob' });
    expect(second).not.toHaveProperty('imageId');
  });

  test('a public operation: a request after one that failed carries none of its keys', async () => {
    let call = 0;
    const handler = publicApiHandler(operation('reportThing', { public: true }), async () => {
      call++;
      if (call === 1) {
        logger.appendKeys({ sessionId: 'session-of-the-first-request' });
        throw new Error('the store is down');
      }
      logger.info(`request ${call}`);
      return { status: 200, body: {} };
    });
    expect((await handler(apiEvent('request-1', 'alice'))).statusCode).toBe(500);
    expect((await handler(apiEvent('request-2', 'alice'))).statusCode).toBe(200);

    expect(lineOf('request failed')).toMatchObject({ sessionId: 'session-of-the-first-request' });
    const second = lineOf('request 2');
    expect(second).toMatchObject({ requestId: 'request-2', operationId: 'reportThing' });
    expect(second).not.toHaveProperty('sessionId');
    expect(second).not.toHaveProperty('userId');
  });

  test('a queue or event function: the next event carries only its own request id', async () => {
    const handler = backgroundHandler(async (event: { imageId?: string; jobId?: string }) => {
      if (event.imageId) logger.appendKeys({ imageId: event.imageId });
      if (event.jobId) logger.appendKeys({ jobId: event.jobId });
      logger.info('handled');
    });
    await handler({ imageId: 'image-1' }, context('lambda-1'));
    await handler({ jobId: 'job-2' }, context('lambda-2'));

    const [first, second] = lines.filter((line) => line.message === 'handled');
    expect(first).toMatchObject({ requestId: 'lambda-1', imageId: 'image-1' });
    expect(second).toMatchObject({ requestId: 'lambda-2', jobId: 'job-2' });
    expect(second).not.toHaveProperty('imageId');
  });

  test('a function after an API request in the same process carries no operation id', async () => {
    // The converter's domain code runs wherever it is called: keys of a request before it stay out.
    const api = apiHandler(operation('getImage'), async () => ({ status: 200, body: {} }));
    const converter = backgroundHandler(async () => {
      logger.appendKeys({ imageId: 'image-1' });
      logger.info('image converted');
    });
    await api(apiEvent('request-1', 'alice'));
    logger.info('between invocations');
    await converter({}, context('lambda-1'));

    for (const message of ['between invocations', 'image converted']) {
      expect(lineOf(message)).not.toHaveProperty('operationId');
      expect(lineOf(message)).not.toHaveProperty('userId');
    }
  });

  test('a custom resource: the next stack request carries none of the keys of the one before', async () => {
    const server = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
      let call = 0;
      const handler = customResourceHandler('test resource', async () => {
        call++;
        if (call === 1) logger.appendKeys({ keyPairId: 'pair-of-the-first-request' });
        logger.info(`stack request ${call}`);
        return { status: 'SUCCESS', physicalResourceId: 'resource' };
      });
      const event = (requestId: string) =>
        ({
          RequestType: 'Create',
          RequestId: requestId,
          ResponseURL: url,
        }) as CloudFormationCustomResourceEvent;
      await handler(event('stack-1'), context('lambda-1'));
      await handler(event('stack-2'), context('lambda-2'));

      expect(lineOf('stack request 1')).toMatchObject({ keyPairId: 'pair-of-the-first-request' });
      const second = lineOf('stack request 2');
      expect(second).toMatchObject({ requestId: 'lambda-2', stackRequestId: 'stack-2' });
      expect(second).not.toHaveProperty('keyPairId');
    } finally {
      server.close();
    }
  });
});

describe('every handler is wrapped so', () => {
  const source = (handler: string) =>
    fs.readFileSync(path.join(__dirname, '..', '..', 'lambda', handler, 'index.ts'), 'utf8');

  test.each(API_OPERATIONS.map((o) => [o.handler]))('%s exports an API handler, or never logs', (handler) => {
    const code = source(handler);
    if (!/export const handler = (apiHandler|publicApiHandler)\b/.test(code)) {
      expect(code).not.toMatch(/core\/logger'/);
    }
  });

  test.each(BACKGROUND_FUNCTIONS.map((f) => [f.handler]))('%s exports a wrapped handler', (handler) => {
    expect(source(handler)).toMatch(/export const handler = (backgroundHandler|customResourceHandler)\(/);
  });
});
