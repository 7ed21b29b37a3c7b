import * as fs from 'node:fs';
import * as path from 'node:path';
import { openApiDocument } from '../../lambda/api/openapi-document';
import { JOB_STATUSES } from '../../lambda/jobs/schemas';
import { API_OPERATIONS } from '../../lambda/deployments';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly description?: string;
  readonly schema: Record<string, unknown>;
}
const document = openApiDocument() as {
  paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
};
const parametersOf = (route: string) => {
  const [method, template] = route.split(' ');
  return document.paths[template][method.toLowerCase()].parameters ?? [];
};
const byName = (route: string) => Object.fromEntries(parametersOf(route).map((p) => [p.name, p]));

describe('the OpenAPI document declares the parameters the handlers read', () => {
  test('GET /v1/jobs: the algorithm and status filters and the page, each optional with its rules', () => {
    expect(byName('GET /v1/jobs')).toEqual({
      algorithm: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: expect.stringMatching(/^\^\[0-9a-f\]\{8\}/) },
      }),
      status: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'string', enum: [...JOB_STATUSES] },
      }),
      limit: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
      }),
      nextToken: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,2000}$' },
      }),
    });
  });

  test('GET /v1/algorithms: the page, with its own bounds', () => {
    expect(byName('GET /v1/algorithms')).toEqual({
      limit: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 50, default: 25 },
      }),
      nextToken: expect.objectContaining({
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$' },
      }),
    });
  });

  test('POST /v1/jobs: the Idempotency-Key header, optional, 1 to 255 visible ASCII characters', () => {
    expect(byName('POST /v1/jobs')).toEqual({
      'Idempotency-Key': expect.objectContaining({
        in: 'header',
        required: false,
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
      }),
    });
  });

  test('every parameter is described, with a schema, once per operation', () => {
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const parameters = operation.parameters ?? [];
        const keys = parameters.map((p) => `${p.in} ${p.name.toLowerCase()}`);
        expect([method, template, new Set(keys).size]).toEqual([method, template, keys.length]);
        for (const parameter of parameters.filter((p) => p.in !== 'path')) {
          expect([template, parameter.name, typeof parameter.description, typeof parameter.schema]).toEqual([
            template,
            parameter.name,
            'string',
            'object',
          ]);
        }
      }
    }
  });

  test('each handler reads only the query parameters and headers its operation declares, and reads each it declares', () => {
    const ROOT = path.join(__dirname, '..', '..');
    for (const operation of API_OPERATIONS) {
      const source = fs.readFileSync(path.join(ROOT, 'lambda', operation.handler, 'index.ts'), 'utf8');
      const read = [
        ...[...source.matchAll(/\bquery\.(\w+)/g)].map(([, name]) => `query ${name}`),
        ...[...source.matchAll(/\bheaders\['([\w-]+)'\]/g)].map(([, name]) => `header ${name}`),
      ];
      const declared = (operation.parameters ?? []).map(
        (p) => `${p.in} ${p.in === 'header' ? p.name.toLowerCase() : p.name}`,
      );
      expect([operation.operationId, [...new Set(read)].sort()]).toEqual([
        operation.operationId,
        declared.sort(),
      ]);
    }
  });
});

describe('the handlers hold to the rules the document declares', () => {
  let platform: LocalPlatform;
  let call: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    call = apiClient(platform.urls.api);
  });

  afterAll(() => platform.stop());

  const token = 'dev-alice';

  test.each(['GET /v1/jobs', 'GET /v1/algorithms'])(
    '%s takes a limit from 1 to its declared maximum and refuses one outside it',
    async (route) => {
      const [method, template] = route.split(' ');
      const { maximum } = byName(route).limit.schema as { maximum: number };
      for (const limit of [1, maximum]) {
        const answer = await call(method, template, { token, query: { limit: String(limit) } });
        expect([limit, answer.status]).toEqual([limit, 200]);
      }
      for (const limit of ['0', String(maximum + 1), '2.5', 'ten']) {
        const answer = await call(method, template, { token, query: { limit } });
        expect([limit, answer.status, answer.body.error.message]).toEqual([
          limit,
          400,
          `limit must be a whole number from 1 to ${maximum}`,
        ]);
      }
    },
  );

  test.each(['GET /v1/jobs', 'GET /v1/algorithms'])(
    '%s refuses a nextToken outside its declared pattern',
    async (route) => {
      const [method, template] = route.split(' ');
      const longest = Number((byName(route).nextToken.schema.pattern as string).match(/,(\d+)\}/)![1]);
      for (const nextToken of ['a b', 'x'.repeat(longest + 1)]) {
        const answer = await call(method, template, { token, query: { nextToken } });
        expect([nextToken.length, answer.status, answer.body.error.message]).toEqual([
          nextToken.length,
          400,
          'nextToken is not valid',
        ]);
      }
    },
  );

  test('GET /v1/jobs takes each declared status and refuses another', async () => {
    for (const status of JOB_STATUSES) {
      expect([status, (await call('GET', '/v1/jobs', { token, query: { status } })).status]).toEqual([
        status,
        200,
      ]);
    }
    const answer = await call('GET', '/v1/jobs', { token, query: { status: 'Lost' } });
    expect([answer.status, answer.body.error.message]).toEqual([
      400,
      expect.stringMatching(/^status must be one of/),
    ]);
  });

  test('POST /v1/jobs refuses an Idempotency-Key outside its declared pattern, before it looks at the algorithm', async () => {
    for (const key of ['has space', 'k'.repeat(256), 'é']) {
      const response = await fetch(`${platform.urls.api}/v1/jobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({
          algorithm: '00000000-0000-4000-8000-000000000000',
          inputs: [{ socket: 'a' }],
        }),
      });
      expect([
        key.length,
        response.status,
        ((await response.json()) as { error: { message: string } }).error.message,
      ]).toEqual([key.length, 400, 'the Idempotency-Key header must be 1 to 255 visible ASCII characters']);
    }
  });
});
