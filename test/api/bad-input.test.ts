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
) {
  const response = await fetch(`${platform.urls.api}${fill(template, id)}`, {
    method: method.toUpperCase(),
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
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

describe('every operation with a body refuses bad bodies with a 4xx that names the problem', () => {
  const bodies: [string, string | Buffer, RegExp][] = [
    ['malformed JSON', '{"a": ', /not valid JSON/],
    ['a JSON string', '"text"', /body must be object/],
    ['null', 'null', /body must be object/],
    ['an unknown field only', '{"unexpected": true}', /is required|is not a known field/],
    ['non-UTF-8 bytes', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /not valid UTF-8/],
    ['a 2 MiB body', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }), /bytes; at most/],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, /body must be object/],
  ];
  for (const { path, method, operation } of withBody) {
    test.each(bodies)(`${operation.operationId} with %s`, async (_, body, message) => {
      const response = await send(method, path, VALID_ID, body);
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
        const body = operation.requestSchema ? '{}' : undefined;
        const response = await send(method, path, id, body);
        expect(response.status).toBe(400);
        expect(response.body.error?.message).toMatch(/path parameter \w+ must be a lower-case UUID/);
      },
    );
  }
});

describe('every protected operation needs a token', () => {
  for (const { path, method, operation } of protectedOperations) {
    test(`${operation.operationId} without a token is 401`, async () => {
      const response = await send(method, path, VALID_ID, operation.requestSchema ? '{}' : undefined, null);
      expect(response).toEqual({
        status: 401,
        body: { error: { code: 'Unauthorized', message: 'a valid Bearer token is required' } },
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
});
