import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { converterContainer } from '../../containers/images/converter/container';
import { environmentVariables } from '../../lambda/contracts/handler-environment';
import { TABLES } from '../../lambda/contracts/tables';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../../lambda/deployments';
import { localEnvironment } from '../../local/functions/deployed-environment';
import { decideImagePull, repositoryArn } from '../../local/iam/image-pull';
import type { LocalCredentials } from '../../local/iam/local-credentials';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
}, 120_000);

afterAll(() => platform?.stop());

/** The function of a handler folder, and the keys its sandbox signs with. */
function functionOf(handler: string): { name: string; roleName: string; credentials: LocalCredentials } {
  const fn = platform.iam.access.functions.get(handler)!;
  return {
    name: fn.name,
    roleName: fn.roleArn.split('/').pop()!,
    credentials: platform.iam.credentials.forRole(fn.roleArn, fn.name),
  };
}

function s3As(credentials: LocalCredentials): S3Client {
  return new S3Client({
    region: 'eu-central-1',
    credentials,
    endpoint: platform.urls.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** What an SDK call was refused with: the error's name and message. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as Error | undefined;
  if (!err) throw new Error('the call was allowed');
  return { name: err.name, message: err.message };
}

describe('local IAM: a function may do what its synthesized role allows, and nothing else', () => {
  test('DynamoDB refuses an item action the role lacks, in AWS words, and allows the ones it has', async () => {
    const getUpload = functionOf('uploads/get-upload');
    const dynamodb = new DynamoDBClient({
      region: 'eu-central-1',
      credentials: getUpload.credentials,
      endpoint: platform.urls.dynamodb,
    });
    const key = { [TABLES.uploads.partitionKey]: { S: '00000000-0000-4000-8000-000000000000' } };
    await expect(
      dynamodb.send(new GetItemCommand({ TableName: platform.settings.uploadsTable, Key: key })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(
      await refusal(
        dynamodb.send(new PutItemCommand({ TableName: platform.settings.uploadsTable, Item: key })),
      ),
    ).toEqual({
      name: 'AccessDeniedException',
      message: `User: arn:aws:sts::000000000000:assumed-role/${getUpload.roleName}/${getUpload.name} is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-central-1:000000000000:table/local-uploads because no identity-based policy allows the dynamodb:PutItem action`,
    });
    dynamodb.destroy();
  });

  test('S3 refuses objects outside the prefixes of the role with a 403 AccessDenied', async () => {
    const createUpload = functionOf('uploads/create-upload');
    const s3 = s3As(createUpload.credentials);
    const bucket = platform.settings.imagingBucket;
    await expect(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/iam-test/object', Body: 'x' })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    const written = await refusal(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'images/iam-test/object', Body: 'x' })),
    );
    expect(written).toEqual({
      name: 'AccessDenied',
      message: `User: arn:aws:sts::000000000000:assumed-role/${createUpload.roleName}/${createUpload.name} is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::${bucket}/images/iam-test/object because no identity-based policy allows the s3:PutObject action`,
    });
    expect(
      (await refusal(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/iam-test/object' })))).name,
    ).toBe('AccessDenied');
    s3.destroy();
  });

  test('a presigned URL acts with the permissions of the role that signed it', async () => {
    const bucket = platform.settings.imagingBucket;
    const sign = (handler: string, key: string) =>
      getSignedUrl(
        s3As(functionOf(handler).credentials),
        new PutObjectCommand({ Bucket: bucket, Key: key }),
        {
          expiresIn: 60,
        },
      );
    const allowed = await fetch(await sign('uploads/sign-upload-parts', 'uploads/iam-test/signed'), {
      method: 'PUT',
      body: 'x',
    });
    expect(allowed.status).toBe(200);
    const refused = await fetch(await sign('uploads/get-upload', 'uploads/iam-test/signed'), {
      method: 'PUT',
      body: 'x',
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(
      /<Code>AccessDenied<\/Code><Message>User: arn:aws:sts::000000000000:assumed-role\/local-Api-RestApiGetUploadRole[^/]+\/[^ ]+ is not authorized to perform: s3:PutObject/,
    );
  });

  test('SQS, Secrets Manager and Batch refuse roles that may not use them', async () => {
    const getUpload = functionOf('uploads/get-upload').credentials;
    const common = { region: 'eu-central-1', credentials: getUpload };
    const sqs = new SQSClient({ ...common, endpoint: platform.urls.sqs });
    const secrets = new SecretsManagerClient({ ...common, endpoint: platform.urls.secretsManager });
    const batch = new BatchClient({ ...common, endpoint: platform.urls.batch });
    const sent = await refusal(
      sqs.send(new SendMessageCommand({ QueueUrl: platform.settings.conversionQueueUrl, MessageBody: '{}' })),
    );
    expect(sent.name).toBe('AccessDenied');
    expect(sent.message).toContain(
      'is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-central-1:000000000000:local-image-conversion',
    );
    const secret = await refusal(
      secrets.send(new GetSecretValueCommand({ SecretId: platform.settings.currentSigningKeySecretArn })),
    );
    expect(secret).toMatchObject({ name: 'AccessDeniedException' });
    expect(secret.message).toContain(
      `secretsmanager:GetSecretValue on resource: ${platform.settings.currentSigningKeySecretArn}`,
    );
    const submitted = await refusal(
      batch.send(
        new SubmitJobCommand({
          jobName: 'x',
          jobQueue: platform.settings.gpuJobQueue,
          jobDefinition: 'local-algorithm-x:1',
        }),
      ),
    );
    expect(submitted).toMatchObject({ name: 'AccessDeniedException' });
    expect(submitted.message).toContain(
      'batch:SubmitJob on resource: arn:aws:batch:eu-central-1:000000000000:job-queue/local-gpu-jobs',
    );
    for (const client of [sqs, secrets, batch]) client.destroy();
  });

  test("the runnable watcher reads every platform queue's RUNNABLE jobs, as its role allows, and may submit none", async () => {
    const waits = await platform.functions.get('jobs/watch-runnable-jobs').invoke({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      detail: {},
    });
    const { gpuJobQueue, cpuJobQueue, converterJobQueue, inputStagingJobQueue } = platform.settings;
    expect(waits).toEqual(
      [gpuJobQueue, cpuJobQueue, converterJobQueue, inputStagingJobQueue].map((jobQueue) => ({
        jobQueue,
        runnableJobs: 0,
        oldestRunnableSeconds: 0,
      })),
    );
    const batch = new BatchClient({
      region: 'eu-central-1',
      credentials: functionOf('jobs/watch-runnable-jobs').credentials,
      endpoint: platform.urls.batch,
    });
    const submitted = await refusal(
      batch.send(
        new SubmitJobCommand({ jobName: 'x', jobQueue: gpuJobQueue, jobDefinition: 'local-algorithm-x:1' }),
      ),
    );
    expect(submitted).toMatchObject({ name: 'AccessDeniedException' });
    batch.destroy();
  });

  test('the page token key is read by list operations and by no other role', async () => {
    const read = (handler: string) => {
      const secrets = new SecretsManagerClient({
        region: 'eu-central-1',
        credentials: functionOf(handler).credentials,
        endpoint: platform.urls.secretsManager,
      });
      return secrets
        .send(new GetSecretValueCommand({ SecretId: platform.settings.pageTokenSecretArn }))
        .finally(() => secrets.destroy());
    };
    for (const handler of ['jobs/list-jobs', 'algorithms/list-algorithms']) {
      expect((await read(handler)).SecretString).toMatch(/^[0-9a-f]{64}$/);
    }
    const refused = await refusal(read('jobs/get-job'));
    expect(refused).toMatchObject({ name: 'AccessDeniedException' });
    expect(refused.message).toContain(
      `secretsmanager:GetSecretValue on resource: ${platform.settings.pageTokenSecretArn}`,
    );
  });

  test('the operator (tests, the printed variables) may do anything; an unknown key nothing', async () => {
    const operator = s3As({
      accessKeyId: platform.environment.AWS_ACCESS_KEY_ID,
      secretAccessKey: platform.environment.AWS_SECRET_ACCESS_KEY,
    });
    const bucket = platform.settings.imagingBucket;
    await expect(
      operator.send(new PutObjectCommand({ Bucket: bucket, Key: 'anywhere/at/all', Body: 'x' })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    const stranger = s3As({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' });
    expect(
      (await refusal(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'anywhere/at/all' })))).name,
    ).toBe('InvalidAccessKeyId');
    const unsigned = await fetch(`${platform.urls.s3}/${bucket}/anywhere/at/all`);
    expect(unsigned.status).toBe(403);
    operator.destroy();
    stranger.destroy();
  });
});

describe('local IAM: image pulls of jobs', () => {
  test("an image's repository: ECR by its ARN, an image of this machine as this account's repository", () => {
    expect(
      repositoryArn('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/algo@sha256:ab', 'eu-central-1'),
    ).toBe('arn:aws:ecr:eu-west-1:123456789012:repository/team/algo');
    expect(repositoryArn('localhost/test-threshold:latest', 'eu-central-1')).toBe(
      'arn:aws:ecr:eu-central-1:000000000000:repository/test-threshold',
    );
    expect(repositoryArn('localhost/threshold@sha256:cd', 'eu-central-1')).toBe(
      'arn:aws:ecr:eu-central-1:000000000000:repository/threshold',
    );
  });

  test("the execution role that algorithm job definitions name may pull images of the account's repositories", async () => {
    const decision = await decideImagePull(
      platform.iam,
      platform.settings.jobExecutionRoleArn,
      '000000000000.dkr.ecr.eu-central-1.amazonaws.com/algorithms/threshold@sha256:ab',
      'eu-central-1',
    );
    expect(decision).toEqual({ allowed: true });
    const elsewhere = await decideImagePull(
      platform.iam,
      platform.settings.jobExecutionRoleArn,
      '999999999999.dkr.ecr.eu-central-1.amazonaws.com/foreign@sha256:ab',
      'eu-central-1',
    );
    expect(elsewhere).toMatchObject({ allowed: false });
  });
});

/**
 * What a local function's environment holds beyond its synthesized definition's variables: what
 * Lambda's runtime gives every function (region, credentials, PATH), local mode's endpoints, and
 * variables of this process that local mode passes on (HOME and LOCAL_CONTAINER_ENGINE for the
 * container engine of the local image check, the log level, the metrics switch and the SDK's
 * Node.js warning for tests).
 */
const RUNTIME_VARIABLES = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'PATH',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_BATCH',
  'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS',
  'AWS_ENDPOINT_URL_CODEPIPELINE',
  'AWS_ENDPOINT_URL_CODEBUILD',
  'HOME',
  'LOCAL_CONTAINER_ENGINE',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_DISABLED',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
];

describe("each function's environment is its synthesized Lambda function's", () => {
  const deployments = () => [
    ...API_OPERATIONS,
    ...BACKGROUND_FUNCTIONS.filter((d) => d.trigger.kind !== 'customResource'),
  ];
  /** The variable names of the function's definition in the template, as synthesized. */
  const synthesizedVariables = (handler: string) => {
    const { function: ref } = platform.iam.synthesized.functions[handler];
    const resource = platform.iam.synthesized.templates[ref.stack].Resources[ref.logicalId];
    return Object.keys((resource.Properties as { Environment: { Variables: object } }).Environment.Variables);
  };

  test("no local function has a variable its synthesized function lacks, but the runtime's and the endpoints", () => {
    for (const { handler } of deployments()) {
      const local = Object.keys(platform.functions.environments.get(handler)!);
      const extra = local.filter(
        (name) => !synthesizedVariables(handler).includes(name) && !RUNTIME_VARIABLES.includes(name),
      );
      const missing = synthesizedVariables(handler).filter((name) => !local.includes(name));
      expect({ handler, extra, missing }).toEqual({ handler, extra: [], missing: [] });
    }
  });

  test("every setting a deployment names has local mode's value, as the handler parses it", () => {
    for (const deployment of deployments()) {
      const environment = platform.functions.environments.get(deployment.handler)!;
      const expected = environmentVariables(deployment, platform.settings);
      expect([deployment.handler, pick(environment, Object.keys(expected))]).toEqual([
        deployment.handler,
        expected,
      ]);
      expect(environment.AWS_ACCESS_KEY_ID).toBe(functionOf(deployment.handler).credentials.accessKeyId);
    }
  });

  test("the converter container's environment is its synthesized job definition's", () => {
    const deployed = platform.iam.access.converter.environment;
    const local = localEnvironment(deployed, { ...platform.settings, conversionWorkDir: '/scratch-here' });
    expect(Object.keys(local).sort()).toEqual(Object.keys(deployed).sort());
    const expected = environmentVariables(converterContainer, {
      ...platform.settings,
      conversionWorkDir: '/scratch-here',
    });
    expect(pick(local, Object.keys(expected))).toEqual(expected);
  });
});

function pick(record: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => name in record).map((name) => [name, record[name]]));
}
