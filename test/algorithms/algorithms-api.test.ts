import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient, INVALID_BODY, UNCHECKED_BODY } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
const alice = 'dev-alice';
const bob = 'dev-bob';
const carol = 'dev-carol';
let sub: Record<string, string>;

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const image = (n: number) => `123456789012.dkr.ecr.eu-central-1.amazonaws.com/segmenter@${digest(n)}`;

const segmentation = {
  inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
  outputs: [
    { slug: 'segmentation', kind: 'image', relativePath: 'images/segmentation' },
    { slug: 'results', kind: 'json', relativePath: 'results.json', schema: { type: 'object' } },
  ],
};

beforeAll(async () => {
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
});

afterAll(() => platform.stop());

async function register(
  token: string,
  overrides: Record<string, unknown> = {},
  n = Math.floor(Math.random() * 1e9),
  options: { contentType?: string } = {},
) {
  return call('POST', '/v1/algorithms', {
    token,
    body: { title: 'Lung segmenter', interfaces: [segmentation], image: image(n), ...overrides },
    ...options,
  });
}

describe('algorithms', () => {
  test('registering makes the caller its editor with version 1 active and the default limits', async () => {
    const created = await register(alice, { gpu: true }, 1);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'Lung segmenter',
      timeLimitSeconds: 3600,
      memoryGb: 8,
      gpu: true,
      role: 'editor',
      editors: [sub[alice]],
      users: [],
      activeVersion: { image: image(1) },
    });
    const read = await call('GET', '/v1/algorithms/{algorithmId}', {
      token: alice,
      params: { algorithmId: created.body.id },
    });
    expect(read.body).toEqual(created.body);
  });

  test('editors choose who may run it; users see it without its member lists, others not at all', async () => {
    const { body: algorithm } = await register(alice);
    const params = { algorithmId: algorithm.id };
    expect((await call('GET', '/v1/algorithms/{algorithmId}', { token: bob, params })).status).toBe(404);

    const set = await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token: alice,
      params,
      body: { editors: [sub[alice]], users: [sub[bob]] },
    });
    expect(set.body).toMatchObject({ editors: [sub[alice]], users: [sub[bob]] });
    const asUser = await call('GET', '/v1/algorithms/{algorithmId}', { token: bob, params });
    expect(asUser.body.role).toBe('user');
    expect(asUser.body.editors).toBeUndefined();
    expect((await call('GET', '/v1/algorithms/{algorithmId}', { token: carol, params })).status).toBe(404);

    const byUser = await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token: bob,
      params,
      body: { editors: [sub[bob]], users: [] },
    });
    expect(byUser).toMatchObject({ status: 403, body: { error: { code: 'Forbidden' } } });
    const byStranger = await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token: carol,
      params,
      body: { editors: [sub[carol]], users: [] },
    });
    expect(byStranger.status).toBe(404);
  });

  test('the list holds exactly the algorithms the caller belongs to, a page at a time', async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push((await register(carol)).body.id);
    const shared = (await register(alice)).body.id;
    await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token: alice,
      params: { algorithmId: shared },
      body: { editors: [sub[alice]], users: [sub[carol]] },
    });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('GET', '/v1/algorithms', {
        token: carol,
        query: { limit: '2', ...(nextToken && { nextToken }) },
      });
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((a: { id: string }) => a.id));
      const body = page.body as { nextToken?: string };
      nextToken = body.nextToken;
    } while (nextToken);
    expect(seen.sort()).toEqual([...mine, shared].sort());
  });

  test('a new version becomes active; a digest already registered is refused', async () => {
    const { body: algorithm } = await register(alice, {}, 100);
    const params = { algorithmId: algorithm.id };
    const added = await call('POST', '/v1/algorithms/{algorithmId}/versions', {
      token: alice,
      params,
      body: { image: image(101) },
    });
    expect(added.status).toBe(201);
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: alice, params });
    expect(read.body.activeVersion).toEqual(added.body);
    const again = await call('POST', '/v1/algorithms/{algorithmId}/versions', {
      token: alice,
      params,
      body: { image: image(100) },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(`image ${digest(100)} is already version`);
  });

  test('each active version has a job definition; a new one retires the last, a refused one leaves none', async () => {
    const { body: algorithm } = await register(
      alice,
      { gpu: true, memoryGb: 16, timeLimitSeconds: 900 },
      200,
    );
    const definitions = () =>
      platform.batch.jobDefinitions.filter(
        (d) => d.input.jobDefinitionName === `local-algorithm-${algorithm.id}`,
      );
    expect(definitions().map((d) => d.status)).toEqual(['ACTIVE']);
    expect(definitions()[0].input).toMatchObject({
      type: 'container',
      platformCapabilities: ['EC2'],
      containerProperties: {
        image: image(200),
        command: ['--manifest', 'Ref::inputManifest'],
        jobRoleArn: 'arn:aws:iam::000000000000:role/local-job',
        resourceRequirements: [
          { type: 'VCPU', value: '4' },
          { type: 'MEMORY', value: '16384' },
          { type: 'GPU', value: '1' },
        ],
        readonlyRootFilesystem: false,
        privileged: false,
        mountPoints: [
          { sourceVolume: 'input', containerPath: '/input', readOnly: false },
          { sourceVolume: 'output', containerPath: '/output', readOnly: false },
          { sourceVolume: 'model', containerPath: '/opt/ml/model', readOnly: false },
        ],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/local/jobs' } },
      },
      timeout: { attemptDurationSeconds: 900 + 300 },
      // Spot reclaims are retried, nothing else.
      retryStrategy: {
        attempts: 3,
        evaluateOnExit: [
          { onStatusReason: 'Host EC2*', action: 'RETRY' },
          { onReason: '*', action: 'EXIT' },
        ],
      },
    });
    // The root file system is read-only: the runner places the model on a volume of the job's own.
    expect(
      (definitions()[0].input.containerProperties as { mountPoints: unknown[] }).mountPoints,
    ).toContainEqual({
      sourceVolume: 'model',
      containerPath: '/opt/ml/model',
      readOnly: false,
    });
    const params = { algorithmId: algorithm.id };
    const version = (image: string) =>
      call('POST', '/v1/algorithms/{algorithmId}/versions', { token: alice, params, body: { image } });
    expect((await version(image(201))).status).toBe(201);
    expect(definitions().map((d) => d.status)).toEqual(['INACTIVE', 'ACTIVE']);
    expect(definitions()[1].input).toMatchObject({ containerProperties: { image: image(201) } });
    // A digest already registered is refused after its definition was registered: it is deregistered.
    expect((await version(image(200))).status).toBe(409);
    expect(definitions().map((d) => d.status)).toEqual(['INACTIVE', 'ACTIVE', 'INACTIVE']);
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: alice, params });
    expect(read.body.activeVersion.image).toBe(image(201));
    expect(read.body.activeVersion).not.toHaveProperty('jobDefinition');
  });
});

describe('algorithms refused', () => {
  const socket = (kind: string, relativePath: string, slug = 'x') => ({ slug, kind, relativePath });
  test.each([
    [
      'an image socket outside images/',
      { inputs: [socket('image', 'ct.mha')], outputs: [socket('json', 'r.json', 'r')] },
      'body.interfaces[0].inputs[0].relativePath must start with "images/" for an image socket',
    ],
    [
      'a json socket without .json',
      { inputs: [socket('json', 'values.txt')], outputs: [socket('json', 'r.json', 'r')] },
      'body.interfaces[0].inputs[0].relativePath must end with .json for a json socket',
    ],
    [
      'the reserved inputs.json',
      { inputs: [socket('json', 'inputs.json')], outputs: [socket('json', 'r.json', 'r')] },
      'body.interfaces[0].inputs[0].relativePath "inputs.json" is reserved for the list of inputs',
    ],
    [
      'a repeated slug',
      {
        inputs: [socket('json', 'a.json', 'a'), socket('json', 'b.json', 'a')],
        outputs: [socket('json', 'r.json', 'r')],
      },
      'body.interfaces[0].inputs[1].slug "a" appears twice in this interface',
    ],
  ])('an interface with %s is refused by its field', async (_, algorithmInterface, message) => {
    const response = await register(alice, { interfaces: [algorithmInterface] });
    expect(response).toEqual({ status: 400, body: { error: { code: 'BadRequest', message } } });
  });

  test('two interfaces with the same inputs are refused', async () => {
    const response = await register(alice, { interfaces: [segmentation, segmentation] });
    expect(response.body.error.message).toBe(
      'body.interfaces[1] takes the same inputs as body.interfaces[0]; a job could not tell them apart',
    );
  });

  test.each([
    [
      'an interface with a path escape',
      { interfaces: [{ inputs: [socket('json', '../a.json')], outputs: [socket('json', 'r.json', 'r')] }] },
      'body.interfaces[0].inputs[0].relativePath has characters or a form that is not allowed',
    ],
    [
      'an interface with an absolute path',
      { interfaces: [{ inputs: [socket('json', '/etc/a.json')], outputs: [socket('json', 'r.json', 'r')] }] },
      'body.interfaces[0].inputs[0].relativePath has characters or a form that is not allowed',
    ],
    ['a time limit below 300 s', { timeLimitSeconds: 60 }, 'body.timeLimitSeconds must be >= 300'],
    ['a time limit above a day', { timeLimitSeconds: 86401 }, 'body.timeLimitSeconds must be <= 86400'],
    ['memory above 32 GB', { memoryGb: 64 }, 'body.memoryGb must be <= 32'],
    [
      'an image by tag, not digest',
      { image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/x:latest' },
      'body.image has characters or a form that is not allowed',
    ],
    [
      'an image from Docker Hub',
      { image: `docker.io/library/x@${digest(1)}` },
      'body.image has characters or a form that is not allowed',
    ],
    ['no interfaces', { interfaces: [] }, 'body.interfaces must NOT have fewer than 1 items'],
    [
      'a title of 1000 characters',
      { title: 't'.repeat(1000) },
      'body.title must NOT have more than 200 characters',
    ],
  ])('%s is refused by API Gateway, and by the handler naming the field', async (_, overrides, message) => {
    expect(await register(alice, overrides)).toEqual(INVALID_BODY);
    const response = await register(alice, overrides, undefined, UNCHECKED_BODY);
    expect(response).toEqual({ status: 400, body: { error: { code: 'BadRequest', message } } });
  });

  test('an empty editors list is refused: an algorithm always has an editor', async () => {
    const { body: algorithm } = await register(alice);
    const setUsers = (options = {}) =>
      call('PUT', '/v1/algorithms/{algorithmId}/users', {
        token: alice,
        params: { algorithmId: algorithm.id },
        body: { editors: [], users: [] },
        ...options,
      });
    expect(await setUsers()).toEqual(INVALID_BODY);
    expect((await setUsers(UNCHECKED_BODY)).body.error.message).toBe(
      'body.editors must NOT have fewer than 1 items',
    );
  });
});

describe('hostile input', () => {
  const json = (slug: string, schema?: Record<string, unknown>) => ({
    slug,
    kind: 'json',
    relativePath: `${slug}.json`,
    ...(schema && { schema }),
  });
  const withInputs = (...inputs: ReturnType<typeof json>[]) => ({
    interfaces: [{ inputs, outputs: segmentation.outputs }],
  });

  async function tableCount(table: 'algorithmsTable' | 'algorithmVersionsTable'): Promise<number> {
    const dynamodb = new DynamoDBClient({});
    const { Count } = await dynamodb.send(
      new ScanCommand({ TableName: platform.settings[table], Select: 'COUNT' }),
    );
    dynamodb.destroy();
    return Count!;
  }

  /** What a refused registration must leave as it was: algorithms, versions, job definitions. */
  const written = async () => [
    await tableCount('algorithmsTable'),
    await tableCount('algorithmVersionsTable'),
    platform.batch.jobDefinitions.length,
  ];

  test.each([
    [
      'an unknown type',
      { type: 'no-such-type' },
      'body.interfaces[0].inputs[0].schema of socket "settings" is not a JSON Schema (draft-07) that can check values: schema is invalid: data/type must be equal to one of the allowed values',
    ],
    [
      'a reference it cannot resolve',
      { $ref: 'https://example.org/elsewhere.json' },
      'body.interfaces[0].inputs[0].schema of socket "settings" is not a JSON Schema (draft-07) that can check values: can\'t resolve reference https://example.org/elsewhere.json from id #',
    ],
    [
      'a pattern that is no regular expression',
      { type: 'string', pattern: '(' },
      'body.interfaces[0].inputs[0].schema of socket "settings" is not a JSON Schema (draft-07) that can check values: Invalid regular expression: /(/u: Unterminated group',
    ],
  ])('a schema with %s is refused at registration, naming the socket', async (_, schema, message) => {
    const before = await written();
    const response = await register(alice, withInputs(json('settings', schema)));
    expect(response.status).toBe(400);
    expect(response.body.error.message.startsWith(message)).toBe(true);
    expect(await written()).toEqual(before);
  });

  test('a schema nested deeper than the algorithm record keeps is refused before it is compiled', async () => {
    const nested = (levels: number): Record<string, unknown> =>
      levels === 1 ? {} : { not: nested(levels - 1) };
    const before = await written();
    const response = await register(alice, withInputs(json('settings', nested(29))));
    expect(response.body.error.message).toBe(
      'body.interfaces[0].inputs[0].schema nests more than 28 levels of arrays and objects; DynamoDB keeps 32 levels and 4 are taken where it is stored',
    );
    expect(await written()).toEqual(before);
    expect((await register(alice, withInputs(json('settings', nested(28))))).status).toBe(201);
  });

  test('32 sockets with 14 KB schemas are a 400 naming the limit; no version or job definition is left', async () => {
    const sockets = Array.from({ length: 32 }, (_, i) =>
      json(`input-${i}`, { type: 'string', description: 'd'.repeat(14 * 1024) }),
    );
    const before = await written();
    const response = await register(alice, withInputs(...sockets));
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(
      /^the algorithm would take 4\d{5} bytes as stored; a DynamoDB item holds 409600 bytes, of which 1024 are kept/,
    );
    expect(await written()).toEqual(before);
  });

  test('members that would take an algorithm past the item limit are a 400; its members stay', async () => {
    const sockets = Array.from({ length: 20 }, (_, i) =>
      json(`input-${i}`, { type: 'string', description: 'd'.repeat(14 * 1024) }),
    );
    const { body: algorithm } = await register(alice, withInputs(...sockets));
    const params = { algorithmId: algorithm.id };
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}-${'u'.repeat(110)}`);
    const response = await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token: alice,
      params,
      body: { editors: [sub[alice]], users },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^the algorithm with these members would take \d+ bytes/);
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: alice, params });
    expect(read.body.users).toEqual([]);
  });

  describe('page tokens', () => {
    let firstPage: { items: unknown[]; nextToken: string };
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) await register(bob);
      firstPage = (await call('GET', '/v1/algorithms', { token: bob, query: { limit: '1' } })).body;
    });

    test('an altered token, or a key made by hand, is a 400', async () => {
      const token = firstPage.nextToken;
      expect(token).toMatch(/^[A-Za-z0-9_-]{1,200}$/);
      for (const nextToken of [
        `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
        Buffer.from('00000000-0000-4000-8000-000000000000').toString('base64url'),
      ]) {
        const response = await call('GET', '/v1/algorithms', { token: bob, query: { nextToken } });
        expect(response).toMatchObject({
          status: 400,
          body: { error: { message: 'nextToken is not valid' } },
        });
      }
    });

    test("another caller's token is a 400", async () => {
      const response = await call('GET', '/v1/algorithms', {
        token: carol,
        query: { nextToken: firstPage.nextToken },
      });
      expect([response.status, response.body.error.message]).toEqual([400, 'nextToken is not valid']);
      expect(
        (await call('GET', '/v1/algorithms', { token: bob, query: { nextToken: firstPage.nextToken } }))
          .status,
      ).toBe(200);
    });
  });
});
