import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildSourceKey } from '../../lambda/contracts/bucket-layout';
import { BUILDER_REPORT, BuildStateChangeDetail } from '../../lambda/contracts/builds';
import { buildResourceNames } from '../../lib/builds/build-resource-names';
import { LocalBuildPipeline, LocalBuildPipelineOptions } from '../../local/builds/build-pipeline';
import { BuilderRun } from '../../local/builds/builder-process';
import { LocalPlatform } from '../../local/local-platform';
import { startCodePipelineStandIn } from '../../local/services/codepipeline';
import { LocalLogStreams } from '../../local/services/log-streams';
import { LocalLogEvent } from '../../local/services/logs';
import { RunningService } from '../../local/services/running-service';
import { buildZip } from '../../packages/image-io/test/helpers/zip-builder';
import { freePorts } from '../helpers/free-ports';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { apiClient } from '../helpers/api-client';
import { localOptionsFromEnvironment, NO_BUILD_ENGINE } from '../../local/local-options';

const names = buildResourceNames({ name: 'local' });
let platform: LocalPlatform;
let s3: S3Client;
const started: RunningService[] = [];

beforeAll(async () => {
  // Local mode on a machine where no container engine answers (its sandboxes keep the variable).
  process.env.LOCAL_CONTAINER_ENGINE = 'no-such-container-engine';
  platform = await startTestPlatform();
  s3 = new S3Client({
    region: platform.environment.AWS_REGION,
    endpoint: platform.urls.s3,
    forcePathStyle: true,
  });
});

afterEach(async () => {
  for (const service of started.splice(0)) await service.stop();
});

const engineBefore = process.env.LOCAL_CONTAINER_ENGINE;

afterAll(async () => {
  if (engineBefore === undefined) delete process.env.LOCAL_CONTAINER_ENGINE;
  else process.env.LOCAL_CONTAINER_ENGINE = engineBefore;
  s3.destroy();
  await platform.stop();
});

/** A JSON-protocol request as an SDK signs it: local IAM reads the access key id of its header. */
async function call(
  url: string,
  target: string,
  body: unknown,
  accessKeyId = platform.environment.AWS_ACCESS_KEY_ID,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${platform.environment.AWS_REGION}/codepipeline/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const start = (url: string, buildId: string, accessKeyId?: string) =>
  call(
    url,
    'CodePipeline_20150709.StartPipelineExecution',
    {
      name: names.pipeline,
      variables: [
        { name: 'ALGORITHM_ID', value: 'alg-1' },
        { name: 'BUILD_ID', value: buildId },
      ],
      sourceRevisions: [
        {
          actionName: 'Context',
          revisionType: 'S3_OBJECT_KEY',
          revisionValue: buildSourceKey('alg-1', buildId),
        },
      ],
    },
    accessKeyId,
  );

/** Puts a build's source object: a zip holding `context.tar.gz`. */
async function putSource(buildId: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: platform.settings.imagingBucket,
      Key: buildSourceKey('alg-1', buildId),
      Body: buildZip([{ name: 'context.tar.gz', content: Buffer.from(`context of ${buildId}`) }]),
    }),
  );
}

/** A builder that reports a result once `release` lets it, and stops when it is stopped. */
function fakeBuilder(
  gate: () => Promise<void> = async () => undefined,
): BuilderRun & { running: number; most: number } {
  const run = async (
    environment: Readonly<Record<string, string>>,
    log: (line: string) => void,
    signal: AbortSignal,
  ) => {
    runner.running++;
    runner.most = Math.max(runner.most, runner.running);
    try {
      log(`${BUILDER_REPORT.phase} extract`);
      log(`archive ${environment.CONTEXT_ARCHIVE.split('/').pop()}`);
      const stopped = new Promise<'stopped'>((resolve) =>
        signal.addEventListener('abort', () => resolve('stopped')),
      );
      if ((await Promise.race([gate(), stopped])) === 'stopped') return 143;
      const image = `${environment.IMAGE_REPOSITORY}@sha256:${'a'.repeat(64)}`;
      log(
        `${BUILDER_REPORT.result} ${JSON.stringify({ image, digest: `sha256:${'a'.repeat(64)}`, sizeBytes: 1, phaseSeconds: {} })}`,
      );
      return 0;
    } finally {
      runner.running--;
    }
  };
  const runner = Object.assign(run, { running: 0, most: 0 });
  return runner;
}

interface TestPipeline {
  readonly url: string;
  readonly pipeline: LocalBuildPipeline;
  readonly events: BuildStateChangeDetail[];
  readonly invocations: unknown[];
  readonly logs: LocalLogStreams<LocalLogEvent>;
}

/** A pipeline behind its own stand-in, with local IAM, the platform's bucket and fakes for the rest. */
async function testPipeline(
  overrides: Partial<LocalBuildPipelineOptions> & { answer?: 'success' | 'failure' | 'throw' | 'never' } = {},
): Promise<TestPipeline> {
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const events: BuildStateChangeDetail[] = [];
  const invocations: unknown[] = [];
  const logs = new LocalLogStreams<LocalLogEvent>();
  const answer = overrides.answer ?? 'success';
  const pipeline = new LocalBuildPipeline({
    pipeline: names.pipeline,
    project: names.project,
    logGroup: names.logGroup,
    region: platform.environment.AWS_REGION,
    account: '000000000000',
    bucket: platform.settings.imagingBucket,
    s3,
    scratchRoot: `${platform.dataDir}/build-scratch-test`,
    concurrency: 2,
    buildTimeoutMs: 60_000,
    projectEnvironment: { IMAGE_REPOSITORY: 'localhost/local/algorithms' },
    run: fakeBuilder(),
    logs,
    emit: async (detail) => void events.push(detail),
    register: {
      functionName: 'local-register-build',
      invoke: async (event) => {
        invocations.push(event);
        const job = (event as { 'CodePipeline.job': { id: string } })['CodePipeline.job'];
        if (answer === 'throw') throw new Error('the function failed');
        if (answer === 'success') {
          await call(url, 'CodePipeline_20150709.PutJobSuccessResult', { jobId: job.id });
        } else if (answer === 'failure') {
          await call(url, 'CodePipeline_20150709.PutJobFailureResult', {
            jobId: job.id,
            failureDetails: { type: 'JobFailed', message: 'the image runs as root' },
          });
        }
      },
    },
    actionTimeoutMs: 60_000,
    ...overrides,
  });
  started.push(
    await startCodePipelineStandIn({
      host: '127.0.0.1',
      port,
      pipeline,
      guard: platform.iam.guard('codepipeline'),
    }),
  );
  return { url, pipeline, events, invocations, logs };
}

async function until<T>(what: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (value) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const execution = async (url: string, id: string) =>
  (
    await call(url, 'CodePipeline_20150709.GetPipelineExecution', {
      pipelineName: names.pipeline,
      pipelineExecutionId: id,
    })
  ).body.pipelineExecution as { status: string; statusSummary?: string };

const ended = (url: string, id: string) =>
  until(async () => {
    const found = await execution(url, id);
    return found.status !== 'InProgress' && found.status !== 'Stopping' ? found : undefined;
  });

describe('the local CodePipeline stand-in', () => {
  test('local IAM refuses StartPipelineExecution to a role without it, as AWS does', async () => {
    const role = platform.functions.environments.get('uploads/create-upload')!.AWS_ACCESS_KEY_ID;
    const refused = await start(platform.urls.codepipeline, 'b-denied', role);
    expect(refused.status).toBe(400);
    expect(refused.body.__type).toBe('AccessDeniedException');
    expect(refused.body.message).toMatch(/codepipeline:StartPipelineExecution/);
    const stop = await call(
      platform.urls.codepipeline,
      'CodeBuild_20161006.StopBuild',
      { id: `${names.project}:x` },
      role,
    );
    expect(stop.body.__type).toBe('AccessDeniedException');
  });

  test("the build functions' roles may do what their code asks, as synthesized", async () => {
    const role = (handler: string) => platform.functions.environments.get(handler)!.AWS_ACCESS_KEY_ID;
    const url = platform.urls.codepipeline;
    // Allowed: the stand-in answers past local IAM, with its own errors.
    const started = await start(url, 'b-allowed', role('builds/start-build'));
    expect(started.status).toBe(200);
    const answered = await call(
      url,
      'CodePipeline_20150709.PutJobSuccessResult',
      { jobId: 'none' },
      role('builds/register-build'),
    );
    expect(answered.body.__type).toBe('JobNotFoundException');
    const stopped = await call(
      url,
      'CodeBuild_20161006.StopBuild',
      { id: `${names.project}:none` },
      role('builds/cancel-build'),
    );
    expect(stopped.body.__type).toBe('ResourceNotFoundException');
    // The register function reports jobs; it starts nothing.
    const refused = await start(url, 'b-refused-role', role('builds/register-build'));
    expect(refused.body.__type).toBe('AccessDeniedException');
  });

  test('without a container engine, a push is refused before anything is written', async () => {
    const call = apiClient(platform.urls.api);
    const algorithm = await call('POST', '/v1/algorithms', {
      token: 'dev-alice',
      body: {
        title: 'Threshold',
        interfaces: [
          {
            inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
            outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
          },
        ],
      },
    });
    expect(algorithm.status).toBe(201);
    const pushed = await call('POST', '/v1/algorithms/{algorithmId}/builds', {
      token: 'dev-alice',
      params: { algorithmId: algorithm.body.id },
      body: { filename: 'context.tar.gz', size: 1000 },
    });
    expect(pushed.status).toBe(400);
    expect(pushed.body.error.message).toBe(NO_BUILD_ENGINE);
    const builds = await call('GET', '/v1/algorithms/{algorithmId}/builds', {
      token: 'dev-alice',
      params: { algorithmId: algorithm.body.id },
    });
    expect(builds.body.items).toEqual([]);
  });

  test('LOCAL_BUILD_CONCURRENCY sets how many builds run at once', () => {
    expect(localOptionsFromEnvironment({}).buildConcurrency).toBeUndefined();
    expect(platform.builds.concurrency).toBe(2);
    expect(localOptionsFromEnvironment({ LOCAL_BUILD_CONCURRENCY: '3' }).buildConcurrency).toBe(3);
    expect(() => localOptionsFromEnvironment({ LOCAL_BUILD_CONCURRENCY: '0' })).toThrow(
      /LOCAL_BUILD_CONCURRENCY/,
    );
  });

  test('only the build pipeline exists, and its variables are checked', async () => {
    const { url } = await testPipeline();
    const other = await call(url, 'CodePipeline_20150709.StartPipelineExecution', { name: 'another' });
    expect(other.body.__type).toBe('PipelineNotFoundException');
    const missing = await call(url, 'CodePipeline_20150709.StartPipelineExecution', {
      name: names.pipeline,
      variables: [{ name: 'ALGORITHM_ID', value: 'a' }],
    });
    expect(missing.body).toMatchObject({
      __type: 'ValidationException',
      message: expect.stringMatching(/BUILD_ID/),
    });
  });

  test('executions run in parallel, none superseded: builds, events, logs and the register job', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const builder = fakeBuilder(() => gate);
    const { url, events, invocations, logs, pipeline } = await testPipeline({ run: builder });
    await Promise.all(['b-1', 'b-2', 'b-3'].map(putSource));
    const ids = await Promise.all(
      ['b-1', 'b-2', 'b-3'].map(async (id) => (await start(url, id)).body.pipelineExecutionId as string),
    );
    // Two build at once; the third waits its turn.
    await until(() => builder.running === 2);
    release();
    for (const id of ids) expect(await ended(url, id)).toMatchObject({ status: 'Succeeded' });
    expect(builder.most).toBe(2);
    expect(invocations).toHaveLength(3);

    const forB1 = events.filter((e) =>
      e['additional-information'].environment?.['environment-variables']?.some(
        (v) => v.name === 'BUILD_ID' && v.value === 'b-1',
      ),
    );
    expect(forB1.map((e) => e['build-status'])).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    const [first] = forB1;
    expect(first['project-name']).toBe(names.project);
    expect(first['build-id']).toMatch(
      new RegExp(`^arn:aws:codebuild:[^:]+:000000000000:build/${names.project}:[0-9a-f-]{36}$`),
    );
    const variables = Object.fromEntries(
      first['additional-information'].environment!['environment-variables']!.map((v) => [v.name, v.value]),
    );
    expect(variables).toMatchObject({
      ALGORITHM_ID: 'alg-1',
      BUILD_ID: 'b-1',
      DOCKERFILE: 'Dockerfile',
      IMAGE_TAG: 'build-b-1',
    });
    const stream = first['additional-information'].logs!['stream-name']!;
    expect(first['additional-information'].logs!['group-name']).toBe(names.logGroup);
    expect(stream).toMatch(new RegExp(`^${names.project}/[0-9a-f-]{36}$`));
    expect(logs.get(stream)!.map((line) => line.message)).toEqual([
      'BUILD_PHASE extract',
      'archive context.tar.gz',
      expect.stringMatching(/^BUILD_RESULT /),
    ]);

    const job = (
      invocations[0] as {
        'CodePipeline.job': {
          id: string;
          accountId: string;
          data: { actionConfiguration: { configuration: Record<string, string> } };
        };
      }
    )['CodePipeline.job'];
    expect(job.accountId).toBe('000000000000');
    expect(job.data.actionConfiguration.configuration.FunctionName).toBe('local-register-build');
    expect(JSON.parse(job.data.actionConfiguration.configuration.UserParameters)).toEqual({
      algorithmId: 'alg-1',
      buildId: expect.stringMatching(/^b-[123]$/),
      image: `localhost/local/algorithms@sha256:${'a'.repeat(64)}`,
    });
    expect(pipeline.jobs.answers).toHaveLength(3);
    // A job is answered once.
    const again = await call(url, 'CodePipeline_20150709.PutJobSuccessResult', { jobId: job.id });
    expect(again.body.__type).toBe('InvalidJobStateException');
  });

  test('abandon stops the execution at once; StopBuild stops its build, which ends STOPPED', async () => {
    const { url, events, invocations } = await testPipeline({
      run: fakeBuilder(() => new Promise(() => undefined)),
    });
    await putSource('b-stop');
    const id = (await start(url, 'b-stop')).body.pipelineExecutionId as string;
    await until(() => events.find((e) => e['build-status'] === 'IN_PROGRESS'));
    const stop = await call(url, 'CodePipeline_20150709.StopPipelineExecution', {
      pipelineName: names.pipeline,
      pipelineExecutionId: id,
      abandon: true,
      reason: 'cancelled',
    });
    expect(stop.status).toBe(200);
    expect(await execution(url, id)).toMatchObject({ status: 'Stopped' });
    // The build runs on until it is stopped, as CodePipeline leaves it.
    expect(events.map((e) => e['build-status'])).toEqual(['IN_PROGRESS']);
    const buildId = events[0]['build-id'];
    const stopped = await call(url, 'CodeBuild_20161006.StopBuild', {
      id: buildId.slice(buildId.indexOf('/') + 1),
    });
    expect(stopped.status).toBe(200);
    await until(() => events.find((e) => e['build-status'] === 'STOPPED'));
    expect(invocations).toHaveLength(0);
    const again = await call(url, 'CodeBuild_20161006.StopBuild', { id: buildId });
    expect(again.body.__type).toBe('InvalidInputException');
    const twice = await call(url, 'CodePipeline_20150709.StopPipelineExecution', {
      pipelineName: names.pipeline,
      pipelineExecutionId: id,
      abandon: true,
    });
    expect(twice.body.__type).toBe('PipelineExecutionNotStoppableException');
  });

  test('a stop without abandon lets the build finish and starts no other action', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { url, events, invocations } = await testPipeline({ run: fakeBuilder(() => gate) });
    await putSource('b-drain');
    const id = (await start(url, 'b-drain')).body.pipelineExecutionId as string;
    await until(() => events.find((e) => e['build-status'] === 'IN_PROGRESS'));
    await call(url, 'CodePipeline_20150709.StopPipelineExecution', {
      pipelineName: names.pipeline,
      pipelineExecutionId: id,
    });
    expect(await execution(url, id)).toMatchObject({ status: 'Stopping' });
    release();
    expect(await ended(url, id)).toMatchObject({ status: 'Stopped' });
    expect(events.map((e) => e['build-status'])).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    expect(invocations).toHaveLength(0);
  });

  test("a build past the project's timeout ends TIMED_OUT and fails the execution", async () => {
    const { url, events, logs } = await testPipeline({
      run: fakeBuilder(() => new Promise(() => undefined)),
      buildTimeoutMs: 300,
    });
    await putSource('b-slow');
    const id = (await start(url, 'b-slow')).body.pipelineExecutionId as string;
    expect(await ended(url, id)).toMatchObject({
      status: 'Failed',
      statusSummary: expect.stringMatching(/TIMED_OUT/),
    });
    expect(events.map((e) => e['build-status'])).toEqual(['IN_PROGRESS', 'TIMED_OUT']);
    const stream = events[0]['additional-information'].logs!['stream-name']!;
    expect(logs.get(stream)!.at(-1)!.message).toMatch(/timed out/);
  });

  test('a failed build fails the execution with the builder reason, without the register action', async () => {
    const failing: BuilderRun = async (_, log) => {
      log(`${BUILDER_REPORT.failed} step 2 of the Dockerfile failed`);
      return 1;
    };
    const { url, events, invocations } = await testPipeline({ run: failing });
    await putSource('b-fail');
    const id = (await start(url, 'b-fail')).body.pipelineExecutionId as string;
    expect(await ended(url, id)).toMatchObject({
      status: 'Failed',
      statusSummary: expect.stringMatching(/step 2 of the Dockerfile failed/),
    });
    expect(events.map((e) => e['build-status'])).toEqual(['IN_PROGRESS', 'FAILED']);
    expect(invocations).toHaveLength(0);
  });

  test('PutJobFailureResult fails the execution with its message', async () => {
    const { url } = await testPipeline({ answer: 'failure' });
    await putSource('b-refused');
    const id = (await start(url, 'b-refused')).body.pipelineExecutionId as string;
    expect(await ended(url, id)).toMatchObject({ status: 'Failed', statusSummary: 'the image runs as root' });
  });

  test('a register function that fails, and never answers, fails the action at its timeout', async () => {
    const { url, invocations } = await testPipeline({ answer: 'throw', actionTimeoutMs: 400 });
    await putSource('b-silent');
    const id = (await start(url, 'b-silent')).body.pipelineExecutionId as string;
    await until(() => invocations.length === 1);
    expect(await execution(url, id)).toMatchObject({ status: 'InProgress' });
    expect(await ended(url, id)).toMatchObject({
      status: 'Failed',
      statusSummary: expect.stringMatching(/timed out/),
    });
  });

  test('a source object that is missing or not one archive fails the execution', async () => {
    const { url } = await testPipeline();
    const missing = (await start(url, 'b-missing')).body.pipelineExecutionId as string;
    expect(await ended(url, missing)).toMatchObject({
      status: 'Failed',
      statusSummary: expect.stringMatching(/cannot be read/),
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: buildSourceKey('alg-1', 'b-two'),
        Body: buildZip([{ name: 'context.zip' }, { name: 'other' }]),
      }),
    );
    const two = (await start(url, 'b-two')).body.pipelineExecutionId as string;
    expect(await ended(url, two)).toMatchObject({
      status: 'Failed',
      statusSummary: expect.stringMatching(/2 entries/),
    });
  });
});
