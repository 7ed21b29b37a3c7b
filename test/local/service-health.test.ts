import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LocalPlatform } from '../../local/local-platform';
import { checkServices } from '../../local/service-health';
import { freePorts } from '../helpers/free-ports';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});

afterAll(() => platform.stop());

describe('local health route', () => {
  test('reports each embedded service with its address', async () => {
    const response = await fetch(`${platform.urls.api}/v1/health`);
    const body = (await response.json()) as {
      status: string;
      services: Record<string, { ok: boolean; url: string }>;
    };
    expect(response.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.services.s3).toMatchObject({ ok: true, url: platform.urls.s3 });
    expect(body.services.cloudfront).toMatchObject({ ok: true, url: platform.urls.cloudfront });
    expect(body.services.codepipeline).toMatchObject({ ok: true, url: platform.urls.codepipeline });
  });

  test('a service that does not answer is reported with its error', async () => {
    const [deadPort] = await freePorts(1);
    const env = platform.environment;
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    const common = { region: env.AWS_REGION, credentials, maxAttempts: 1 };
    const services = await checkServices({
      urls: { ...platform.urls, dynamodb: `http://127.0.0.1:${deadPort}` },
      s3: new S3Client({ ...common, endpoint: platform.urls.s3, forcePathStyle: true }),
      dynamodb: new DynamoDBClient({ ...common, endpoint: `http://127.0.0.1:${deadPort}` }),
      secretsManager: new SecretsManagerClient({ ...common, endpoint: platform.urls.secretsManager }),
      sqs: new SQSClient({ ...common, endpoint: platform.urls.sqs }),
      batch: new BatchClient({ ...common, endpoint: platform.urls.batch }),
      logs: new CloudWatchLogsClient({ ...common, endpoint: platform.urls.logs }),
      conversionQueueUrl: platform.settings.conversionQueueUrl,
      bucketName: platform.settings.imagingBucket,
      signingKeySecretArn: platform.settings.currentSigningKeySecretArn,
      operatorAccessKeyId: env.AWS_ACCESS_KEY_ID,
      buildPipelineName: platform.settings.buildPipelineName,
    });
    expect(services.s3.ok).toBe(true);
    expect(services.codepipeline.ok).toBe(true);
    expect(services.logs.ok).toBe(true);
    expect(services.dynamodb).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  test('unknown routes and methods answer 404 NotFound, as the deployed gateway response does', async () => {
    const noRoute = { error: { code: 'NotFound', message: 'no route matches this method and path' } };
    for (const [method, path] of [
      ['GET', '/v1/nothing-here'],
      ['DELETE', '/v1/health'],
      ['GET', '/'],
    ]) {
      const answer = await fetch(`${platform.urls.api}${path}`, { method });
      expect([method, path, answer.status, await answer.json()]).toEqual([method, path, 404, noRoute]);
    }
  });

  test('the CloudFront stand-in refuses methods other than GET and HEAD', async () => {
    const response = await fetch(`${platform.urls.cloudfront}/images/a`, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(403);
  });
});
