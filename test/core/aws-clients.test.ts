import { UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

type Clients = typeof import('../../lambda/core/aws-clients');
const savedEnv = { ...process.env };

/** The module as a fresh Lambda container loads it, with `env` as its environment. */
function clientsWith(env: Record<string, string | undefined>): Clients {
  process.env = {
    ...savedEnv,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    ...env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
  let clients: Clients | undefined;
  jest.isolateModules(() => {
    clients = require('../../lambda/core/aws-clients');
  });
  return clients!;
}

afterEach(() => {
  process.env = { ...savedEnv };
});

const part = new UploadPartCommand({
  Bucket: 'imaging',
  Key: 'uploads/u/1/scan.mha',
  UploadId: 'x',
  PartNumber: 2,
  ContentLength: 1024,
});

describe('S3 clients', () => {
  test('part URLs for uploaders use the Transfer Acceleration endpoint in AWS', async () => {
    const { s3ForUploaders } = clientsWith({ AWS_ENDPOINT_URL_S3: undefined, S3_ACCELERATE: 'true' });
    const url = new URL(
      await getSignedUrl(s3ForUploaders(), part, {
        expiresIn: 60,
        signableHeaders: new Set(['content-length']),
      }),
    );
    expect(url.host).toBe('imaging.s3-accelerate.amazonaws.com');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(url.searchParams.has('x-amz-checksum-crc32')).toBe(false);
  });

  test("the function's own calls use the regional endpoint", async () => {
    const { s3 } = clientsWith({ AWS_ENDPOINT_URL_S3: undefined, S3_ACCELERATE: 'true' });
    const url = new URL(await getSignedUrl(s3(), part, { expiresIn: 60 }));
    expect(url.host).toBe('imaging.s3.eu-central-1.amazonaws.com');
  });

  test('with a local endpoint, URLs name the bucket in the path and are not accelerated', async () => {
    const { s3ForUploaders } = clientsWith({
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      S3_ACCELERATE: 'true',
    });
    const url = new URL(await getSignedUrl(s3ForUploaders(), part, { expiresIn: 60 }));
    expect(`${url.host}${url.pathname}`).toBe('127.0.0.1:4569/imaging/uploads/u/1/scan.mha');
  });
});

describe('health handler', () => {
  test('answers 200 with status ok', async () => {
    // Its environment: the web origins of every API operation's, and the metrics' namespace.
    process.env.WEB_ORIGINS = '';
    process.env.BUSINESS_METRIC_NAMESPACE = 'Platform';
    const { handler } = require('../../lambda/api/get-health/index');
    const result = await handler();
    expect([result.statusCode, JSON.parse(result.body)]).toEqual([200, { status: 'ok' }]);
  });
});
