import * as http from 'node:http';
import { API_OPERATIONS } from '../../lambda/deployments';
import { LocalPlatform } from '../../local/local-platform';
import { checkAnswer } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});

afterAll(() => platform.stop());

const VALID_ID = '00000000-0000-4000-8000-000000000000';
const operations = API_OPERATIONS.map((operation) => ({
  path: operation.path,
  method: operation.method.toLowerCase(),
  operation,
}));
const withBody = operations.filter(({ operation }) => operation.requestSchema);
const withIds = operations.filter(({ path }) => path.includes('{'));
const protectedOperations = operations.filter(({ operation }) => !operation.public);

async function send(
  method: string,
  template: string,
  id: string,
  body?: string | Buffer,
  token: string | null = 'dev-bob',
  contentType = 'application/json',
) {
  const response = await fetch(`${platform.urls.api}${fill(template, id)}`, {
    method: method.toUpperCase(),
    headers: { 'content-type': contentType, ...(token && { authorization: `Bearer ${token}` }) },
    body,
  });
  const answer = {
    status: response.status,
    body: (await response.json()) as { error?: { code: string; message: string } },
  };
  checkAnswer(method, template, answer.status, answer.body);
  return answer;
}

const fill = (path: string, id: string) => path.replace(/\{\w+\}/g, id);

/** Bad bodies, each with what the handler says of it when API Gateway lets it through. */
const badBodies: [string, string | Buffer, RegExp][] = [
  ['malformed JSON', '{"a": ', /not valid JSON/],
  ['a JSON string', '"text"', /body must be object/],
  ['null', 'null', /body must be object/],
  ['an unknown field only', '{"unexpected": true}', /is required|is not a known field/],
  // API Gateway hands bodies on as UTF-8 text: bytes that are not UTF-8 arrive replaced.
  ['non-UTF-8 bytes', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /not valid JSON/],
  ['a 2 MiB body', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }), /bytes; at most/],
  ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, /body must be object/],
  ['no body', '', /needs a JSON body/],
];

describe('API Gateway refuses bad JSON bodies of every operation before its handler runs', () => {
  for (const { path, method, operation } of withBody) {
    test.each(badBodies)(`${operation.operationId} with %s`, async (_, body) => {
      const response = await send(method, path, VALID_ID, body);
      expect(response).toEqual({
        status: 400,
        body: { error: { code: 'BadRequest', message: 'Invalid request body' } },
      });
    });
  }
});

describe('a body of a type that has no model reaches the handler, which refuses it naming the problem', () => {
  for (const { path, method, operation } of withBody) {
    test.each(badBodies)(`${operation.operationId} with %s`, async (_, body, message) => {
      const response = await send(method, path, VALID_ID, body, 'dev-bob', 'text/plain');
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.body.error?.message).toMatch(message);
    });
  }
});

describe('every operation with an id refuses ids that are not UUIDs', () => {
  for (const { path, method, operation } of withIds) {
    test.each(['not-a-uuid', '..%2F..%2Fetc', '%00', 'x'.repeat(3000)])(
      `${operation.operationId} with %s`,
      async (id) => {
        // API Gateway checks a JSON body before the handler sees the path: this one has no model.
        const body = operation.requestSchema ? '{}' : undefined;
        const response = await send(method, path, id, body, 'dev-bob', 'text/plain');
        expect(response.status).toBe(400);
        expect(response.body.error?.message).toMatch(/path parameter \w+ must be a lower-case UUID/);
      },
    );
  }
});

describe("every protected operation needs a token, refused as the Cognito authorizer's 401", () => {
  for (const { path, method, operation } of protectedOperations) {
    test(`${operation.operationId} without a token is 401`, async () => {
      const response = await send(method, path, VALID_ID, operation.requestSchema ? '{}' : undefined, null);
      expect(response).toEqual({
        status: 401,
        body: { error: { code: 'Unauthorized', message: 'Unauthorized' } },
      });
    });
  }
});

describe('CORS', () => {
  test('answers name the origin only when it is a configured web origin', async () => {
    const ask = (origin: string) =>
      fetch(`${platform.urls.api}/v1/uploads/${VALID_ID}`, {
        headers: { origin, authorization: 'Bearer dev-bob' },
      });
    expect((await ask('http://localhost:4000')).headers.get('access-control-allow-origin')).toBe(
      'http://localhost:4000',
    );
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  test("API Gateway's own errors echo the caller's origin, as the deployed gateway responses do", async () => {
    const answer = await fetch(`${platform.urls.api}/v1/uploads`, {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:4000' },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:4000');
    expect(answer.headers.get('vary')).toBe('Origin');
  });

  test('preflights are answered on every route without a token, naming the headers the API reads', async () => {
    for (const { path } of operations) {
      const answer = await fetch(`${platform.urls.api}${fill(path, VALID_ID)}`, {
        method: 'OPTIONS',
        headers: { origin: 'http://127.0.0.1:4000', 'access-control-request-method': 'POST' },
      });
      expect([path, answer.status, answer.headers.get('access-control-allow-origin')]).toEqual([
        path,
        204,
        'http://127.0.0.1:4000',
      ]);
      expect(answer.headers.get('access-control-allow-headers')).toBe(
        'Authorization,Content-Type,Idempotency-Key',
      );
    }
  });
});

describe('limits', () => {
  test("a body over 10 MB is API Gateway's 413, which the client reads, and its kept-alive connection carries the next request", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(platform.urls.api);
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<{ status: number; body: unknown; reusedSocket: boolean }>((resolve, reject) => {
        const req = http.request({
          host: hostname,
          port,
          method,
          path,
          agent,
          headers: { authorization: 'Bearer dev-bob' },
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: JSON.parse(text), reusedSocket: req.reusedSocket }),
          );
        });
        req.end(body);
      });
    try {
      const refused = await send('POST', '/v1/uploads', Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
      expect(refused).toEqual({
        status: 413,
        body: { error: { code: 'PayloadTooLarge', message: 'Request Too Long' } },
        reusedSocket: false,
      });
      const next = await send('GET', '/v1/health');
      expect([next.status, next.reusedSocket]).toEqual([200, true]);
    } finally {
      agent.destroy();
    }
  });

  test('headers too large for the server are a 431 in the API error shape', async () => {
    const response = await fetch(`${platform.urls.api}/v1/health`, {
      headers: { 'x-big': 'a'.repeat(20_000) },
    });
    expect(response.status).toBe(431);
    expect(await response.json()).toEqual({
      error: { code: 'RequestRefused', message: 'Request Header Fields Too Large' },
    });
  });
});
