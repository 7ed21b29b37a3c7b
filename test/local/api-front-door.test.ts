import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as http from 'node:http';
import * as net from 'node:net';
import { apiOperation, ApiOperation } from '../../lambda/contracts/handler-deployment';
import { FunctionError } from '../../local/functions/local-function';
import { MAX_REQUEST_BYTES, startFrontDoor } from '../../local/services/api-gateway';
import { apiRoutes } from '../../local/services/api-gateway-events';
import { RunningService } from '../../local/services/running-service';
import { freePorts } from '../helpers/free-ports';

/**
 * The front door as API Gateway's REST API answers, with operations of its own whose function
 * echoes the event it gets (or fails, or never answers), so what API Gateway decides before and
 * around a function is seen apart from any handler.
 */

const WEB_ORIGINS = ['http://localhost:4000', 'http://127.0.0.1:4000'];
const THING_ID = '00000000-0000-4000-8000-000000000001';
const thingSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 5 } },
};

const operations: ApiOperation[] = [
  apiOperation('test/put-thing', 'POST /v1/things/{thingId}', {
    summary: 'An operation with a body, a required header and an optional query parameter',
    requestSchema: { name: 'PutThingRequest', schema: thingSchema },
    parameters: [
      { name: 'X-Trace', in: 'header', description: 'required', schema: { type: 'string' }, required: true },
      { name: 'note', in: 'query', description: 'optional', schema: { type: 'string' } },
    ],
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-thing', 'GET /v1/things/{thingId}', {
    summary: 'An operation without a body',
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-things', 'GET /v1/things', {
    summary: 'A static route beside a parameter one',
    parameters: [{ name: 'when', in: 'query', description: 'required', schema: {}, required: true }],
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-public', 'GET /v1/public', {
    summary: 'A public operation',
    public: true,
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-broken', 'GET /v1/broken', {
    summary: 'Its function fails',
    public: true,
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-malformed', 'GET /v1/malformed', {
    summary: 'Its function answers what is not a proxy result',
    public: true,
    responses: {},
    permissions: {},
  }),
  apiOperation('test/get-slow', 'GET /v1/slow', {
    summary: 'Its function never answers',
    public: true,
    responses: {},
    permissions: {},
  }),
];

const invoked: APIGatewayProxyEvent[] = [];
async function invoke(operation: ApiOperation, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  invoked.push(event);
  if (operation.operationId === 'getBroken') {
    throw new FunctionError('Sandbox.Timedout', 'Task timed out after 28.00 seconds');
  }
  if (operation.operationId === 'getMalformed') return { body: 'no status' } as APIGatewayProxyResult;
  if (operation.operationId === 'getSlow') return new Promise(() => undefined);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
}

let frontDoor: RunningService;
let port: number;

beforeAll(async () => {
  [port] = await freePorts(1);
  frontDoor = await startFrontDoor({
    host: '127.0.0.1',
    port,
    routes: apiRoutes(operations, invoke),
    webOrigins: WEB_ORIGINS,
    corsAllowHeaders: ['Authorization', 'Content-Type', 'X-Trace'],
    integrationTimeoutSeconds: 0.5,
  });
});

afterAll(() => frontDoor.stop());

beforeEach(() => {
  invoked.length = 0;
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The JSON body; undefined when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly reusedSocket: boolean;
}

/** One request exactly as given (the path is sent as written, unlike fetch's normalizing). */
function request(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method,
      path,
      headers: options.headers,
      agent: options.agent,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          text,
          body,
          reusedSocket: req.reusedSocket,
        });
      });
    });
    req.end(options.body);
  });
}

const token = { authorization: 'Bearer dev-alice' };
const json = { 'content-type': 'application/json' };
const goodPut = (
  extra: { headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent } = {},
) =>
  request('POST', `/v1/things/${THING_ID}`, {
    body: '{"name":"ok"}',
    ...extra,
    headers: { ...token, ...json, 'X-Trace': 't', ...extra.headers },
  });
const lastEvent = () => invoked[invoked.length - 1];
const error = (code: string, message: string) => ({ error: { code, message } });
const NO_ROUTE = { status: 404, body: error('NotFound', 'no route matches this method and path') };

describe('request validation, as the REST API configures it', () => {
  test.each([
    ['malformed JSON', '{"name": '],
    ['an unknown field', '{"name":"ok","extra":1}'],
    ['a field that breaks its rule', '{"name":"toolong"}'],
    ['a JSON string', '"ok"'],
    ['an empty body', ''],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
  ])('a body with %s is refused with API Gateway answer, before the function runs', async (_, body) => {
    const answer = await goodPut({ body });
    expect([answer.status, answer.body]).toEqual([400, error('BadRequest', 'Invalid request body')]);
    expect(invoked).toHaveLength(0);
  });

  test('the model is that of the JSON type when the request names no type, or names it with a charset or in capitals', async () => {
    for (const contentType of [undefined, 'application/json; charset=utf-8', 'Application/JSON']) {
      const headers = { ...token, 'X-Trace': 't', ...(contentType && { 'content-type': contentType }) };
      const refused = await request('POST', `/v1/things/${THING_ID}`, {
        headers,
        body: '{"name":"toolong"}',
      });
      expect([contentType, refused.status, refused.body]).toEqual([
        contentType,
        400,
        error('BadRequest', 'Invalid request body'),
      ]);
      const accepted = await request('POST', `/v1/things/${THING_ID}`, { headers, body: '{"name":"ok"}' });
      expect([contentType, accepted.status]).toEqual([contentType, 200]);
    }
  });

  test('a body of a type that has no model reaches the function unchecked, as API Gateway lets it through', async () => {
    const answer = await goodPut({ headers: { 'content-type': 'text/plain' }, body: '{"name":"toolong"}' });
    expect(answer.status).toBe(200);
    expect(lastEvent().body).toBe('{"name":"toolong"}');
  });

  test('missing or blank required parameters are refused naming them, in API Gateway order', async () => {
    const noHeader = await request('POST', `/v1/things/${THING_ID}`, {
      headers: { ...token, ...json },
      body: '{"name":"toolong"}',
    });
    expect([noHeader.status, noHeader.body]).toEqual([
      400,
      error('BadRequest', 'Missing required request parameters: [X-Trace]'),
    ]);
    const blank = await goodPut({ headers: { 'X-Trace': ' ' } });
    expect(blank.body).toEqual(error('BadRequest', 'Missing required request parameters: [X-Trace]'));
    const noQuery = await request('GET', '/v1/things?when=', { headers: token });
    expect(noQuery.body).toEqual(error('BadRequest', 'Missing required request parameters: [when]'));
    expect(invoked).toHaveLength(0);
    expect((await goodPut({ headers: { 'x-trace': 't' } })).status).toBe(200);
  });

  test('the authorizer comes first: without a valid token a bad request is a 401', async () => {
    for (const authorization of [undefined, 'Bearer forged', 'dev-alice']) {
      const answer = await request('POST', `/v1/things/${THING_ID}`, {
        headers: { ...json, ...(authorization && { authorization }) },
        body: '{"name": ',
      });
      expect([authorization, answer.status, answer.body]).toEqual([
        authorization,
        401,
        error('Unauthorized', 'Unauthorized'),
      ]);
    }
    expect(invoked).toHaveLength(0);
  });
});

describe('the event, as API Gateway builds it for a proxy integration', () => {
  test('path parameters stay percent-encoded, and %2F does not split a segment', async () => {
    await request('GET', '/v1/things/a%2Fb%40c', { headers: token });
    expect(lastEvent()).toMatchObject({
      resource: '/v1/things/{thingId}',
      path: '/v1/things/a%2Fb%40c',
      pathParameters: { thingId: 'a%2Fb%40c' },
    });
  });

  test('bodies arrive as UTF-8 text, never base64, since the API declares no binary types', async () => {
    await goodPut({ headers: { 'content-type': 'text/plain' }, body: Buffer.from([0x68, 0xff, 0x69]) });
    expect(lastEvent()).toMatchObject({ body: 'h\ufffdi', isBase64Encoded: false });
  });

  test('query parameters and headers come with the last value, and all of them in the multi-value maps', async () => {
    await request('GET', `/v1/things/${THING_ID}?a=1&a=2`, { headers: token });
    expect(lastEvent()).toMatchObject({
      queryStringParameters: { a: '2' },
      multiValueQueryStringParameters: { a: ['1', '2'] },
      headers: { authorization: 'Bearer dev-alice' },
      multiValueHeaders: { authorization: ['Bearer dev-alice'] },
      requestContext: { authorizer: { claims: { email: 'alice@example.org' } } },
    });
  });
});

describe('routes, as API Gateway matches resources and methods', () => {
  test('trailing slashes and extra leading slashes reach the route; the event path keeps the trailing one', async () => {
    for (const path of [`/v1/things/${THING_ID}/`, `//v1/things/${THING_ID}`, `/v1/things/${THING_ID}//`]) {
      expect([path, (await request('GET', path, { headers: token })).status]).toEqual([path, 200]);
    }
    expect(lastEvent().path).toBe(`/v1/things/${THING_ID}//`);
  });

  test.each([
    ['an unknown path', 'GET', '/v1/nothing'],
    ['a path in other case', 'GET', `/V1/things/${THING_ID}`],
    ['an empty segment', 'GET', `/v1//things/${THING_ID}`],
    ['a path deeper than any route', 'GET', `/v1/things/${THING_ID}/more`],
    ['the root', 'GET', '/'],
    ['a resource without that method', 'DELETE', `/v1/things/${THING_ID}`],
    ['a resource with no method at all', 'GET', '/v1'],
    ['HEAD on a GET route', 'HEAD', '/v1/public'],
  ])('%s is answered 404 NotFound, in the API error shape', async (_, method, path) => {
    const answer = await request(method, path, { headers: token });
    expect(answer.status).toBe(404);
    if (method !== 'HEAD') expect(answer.body).toEqual(NO_ROUTE.body);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(invoked).toHaveLength(0);
  });

  test('a static segment wins over a parameter', async () => {
    await request('GET', '/v1/things?when=now', { headers: token });
    expect(lastEvent().resource).toBe('/v1/things');
  });

  test('CORS preflights answer on every resource: the first origin, or the caller when it is another configured one', async () => {
    const ask = (path: string, origin: string) => request('OPTIONS', path, { headers: { origin } });
    const second = await ask(`/v1/things/${THING_ID}`, 'http://127.0.0.1:4000');
    expect(second.status).toBe(204);
    expect(second.headers).toMatchObject({
      'access-control-allow-origin': 'http://127.0.0.1:4000',
      'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE',
      'access-control-allow-headers': 'Authorization,Content-Type,X-Trace',
      'access-control-max-age': '3600',
      vary: 'Origin',
    });
    for (const path of ['/', '/v1', '/v1/things']) {
      const other = await ask(path, 'https://elsewhere.example');
      expect([path, other.status, other.headers['access-control-allow-origin']]).toEqual([
        path,
        204,
        'http://localhost:4000',
      ]);
    }
    expect((await ask('/v1/nothing', 'http://localhost:4000')).status).toBe(404);
  });

  test("API Gateway's own answers carry the CORS headers of its gateway responses: the caller's origin echoed", async () => {
    const answer = await request('GET', '/v1/nothing', { headers: { origin: 'http://127.0.0.1:4000' } });
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': 'http://127.0.0.1:4000',
      vary: 'Origin',
      'cache-control': 'no-store',
    });
  });
});

describe('the integration', () => {
  let logged: jest.SpyInstance;
  beforeEach(() => {
    logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  test('a function that fails or times out is a 502, as the default 5xx response renders it, and says why in the log', async () => {
    const answer = await request('GET', '/v1/broken');
    expect([answer.status, answer.body]).toEqual([502, error('InternalError', 'Internal server error')]);
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/getBroken failed: Sandbox.Timedout/));
  });

  test('a function that answers what is not a proxy result is a 502 too', async () => {
    const answer = await request('GET', '/v1/malformed');
    expect([answer.status, answer.body]).toEqual([502, error('InternalError', 'Internal server error')]);
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/malformed Lambda proxy response/));
  });

  test('an integration that has not answered within the timeout is a 504', async () => {
    const answer = await request('GET', '/v1/slow');
    expect([answer.status, answer.body]).toEqual([504, error('InternalError', 'Endpoint request timed out')]);
  });
});

describe('limits and what Node refuses', () => {
  const tooLarge = { status: 413, body: error('PayloadTooLarge', 'Request Too Long') };

  test('a body over 10 MB is a 413 that the client reads, and its kept-alive connection carries the next request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await goodPut({ body: Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20), agent });
      expect({ status: refused.status, body: refused.body }).toEqual(tooLarge);
      const next = await request('GET', '/v1/public', { agent });
      expect([next.status, next.reusedSocket]).toEqual([200, true]);
      expect(invoked).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  test('a body of exactly 10 MB is let through', async () => {
    const body = Buffer.alloc(MAX_REQUEST_BYTES, 0x20);
    const answer = await goodPut({ headers: { 'content-type': 'text/plain' }, body });
    expect(answer.status).toBe(200);
  });

  test('a chunked body that grows past 10 MB is a 413 too', async () => {
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/public' });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 11; i++) req.write(chunk);
      req.end();
    });
    expect({ status: answer.status, body: JSON.parse(answer.text) }).toEqual(tooLarge);
  });

  test('a body announced over 10 MB with Expect: 100-continue is refused before it is sent', async () => {
    const answer = await new Promise<{ status: number; text: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false;
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/public',
          headers: { expect: '100-continue', 'content-length': String(MAX_REQUEST_BYTES + 1) },
        });
        req.on('continue', () => {
          continued = true;
          req.end(Buffer.alloc(MAX_REQUEST_BYTES + 1));
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, text, continued }));
        });
        req.flushHeaders();
      },
    );
    expect({ status: answer.status, body: JSON.parse(answer.text), continued: answer.continued }).toEqual({
      ...tooLarge,
      continued: false,
    });
  });

  /** Sends `raw` on a fresh connection and returns all that comes back until the server closes it. */
  const rawExchange = (raw: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(raw));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  const parse = (text: string) => {
    const [head, body] = text.split('\r\n\r\n');
    return { statusLine: head.split('\r\n')[0], head: head.toLowerCase(), body: JSON.parse(body) };
  };

  test('headers too large for Node are a 431 in the API error shape', async () => {
    const answer = parse(
      await rawExchange(`GET /v1/public HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.head).toContain('content-type: application/json');
    expect(answer.body).toEqual(error('RequestRefused', 'Request Header Fields Too Large'));
  });

  test('a request Node cannot parse is a 400 in the API error shape', async () => {
    const answer = parse(await rawExchange('NOT HTTP AT ALL\r\n\r\n'));
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.body).toEqual(error('RequestRefused', 'Bad Request'));
  });
});
