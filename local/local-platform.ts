import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONVERSION_QUEUE } from '../lambda/contracts/conversion-queue';
import { BUILD_LIMITS, BUILD_QUEUE, BUILDER_ENVIRONMENT } from '../lambda/contracts/builds';
import { corsAllowHeaders } from '../lambda/contracts/cors-preflight';
import { PlatformSettings } from '../lambda/contracts/handler-environment';
import { API_OPERATIONS } from '../lambda/deployments';
import { buildResourceNames } from '../lib/builds/build-resource-names';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { LocalBuildPipeline } from './builds/build-pipeline';
import { builderProcess } from './builds/builder-process';
import { DEV_USERS } from './dev-users';
import { localEnvironment } from './functions/deployed-environment';
import { LocalIam } from './iam/local-iam';
import { findContainerEngine } from './jobs/container-engine';
import { localConverterContainer } from './jobs/converter-container';
import { localInputStager } from './jobs/input-stager';
import { LocalJobExecutor, localJobExecutor } from './jobs/local-job-executor';
import { LocalFunctions, localFunctions } from './local-functions';
import {
  LocalPlatformOptions,
  LocalService,
  NO_CONTAINER_ENGINE,
  PORT_VARIABLES,
  SERVICE_NAMES,
  serviceUrl,
} from './local-options';
import { localJobResourceNames, localSettings, localTableName } from './local-settings';
import { LocalSigningKeys, localSigningKeys } from './local-signing-key';
import { localSessionKey } from './local-session-key';
import { startLocalViewer } from './local-viewer';
import type { ViewerServer } from '../containers/viewer/server/viewer-server';
import { LOCAL_ACCOUNT } from './iam/template-values';
import { assertPortFree } from './port-check';
import { checkServices } from './service-health';
import { startFrontDoor } from './services/api-gateway';
import { apiRoutes } from './services/api-gateway-events';
import { AlgorithmJobRunner, BatchStandIn, startBatchStandIn } from './services/batch';
import { startCloudFrontStandIn } from './services/cloudfront';
import { Delivery, USUAL_DELIVERY } from './services/delivery';
import { startEmbeddedDynamoDb } from './services/dynamodb';
import { startCodePipelineStandIn } from './services/codepipeline';
import { LocalLogStreams } from './services/log-streams';
import { LocalLogEvent, startLogsStandIn } from './services/logs';
import { RunningService } from './services/running-service';
import { startEmbeddedS3 } from './services/s3';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from './services/secrets-manager';
import { SqsStandIn, startSqsStandIn } from './services/sqs';

/** Region that local clients name; the embedded servers ignore it. */
const LOCAL_REGION = defaultPlatformConfig.homeRegion;
/** The secret keying page tokens, as the data stack generates it; new at every start, as tokens need not outlive one. */
const PAGE_TOKEN_SECRET_NAME = 'local/page-token-key';
const CONVERSION_QUEUE_NAME = 'local-image-conversion';
const CONVERSION_DEAD_LETTERS = `${CONVERSION_QUEUE_NAME}-dead-letter`;
/** Events that background functions failed on, as the deployed `BackgroundFailures` queue keeps them. */
const BACKGROUND_FAILURES = 'local-background-failures';
const BUILD_QUEUE_NAME = 'local-algorithm-builds';
const BUILD_DEAD_LETTERS = `${BUILD_QUEUE_NAME}-dead-letter`;
/** Builds that run at once unless LOCAL_BUILD_CONCURRENCY says otherwise: each takes a core or more. */
const BUILD_CONCURRENCY = 2;
/** How long CodePipeline's Lambda invoke action waits for its function's PutJob*Result. */
const PIPELINE_ACTION_TIMEOUT_MS = 60 * 60_000;
/**
 * Variables of this process that a function's sandbox keeps, as Lambda's runtime sets its own:
 * PATH; HOME and LOCAL_CONTAINER_ENGINE for the local image check's container engine;
 * POWERTOOLS_LOG_LEVEL, which quiets handlers in tests as the function's log level does on AWS,
 * and POWERTOOLS_METRICS_DISABLED, which quiets their metric documents in tests.
 */
const PROCESS_VARIABLES = [
  'PATH',
  'HOME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_DISABLED',
  'LOCAL_CONTAINER_ENGINE',
];

export class LocalPlatformError extends Error {}

export interface LocalPlatform {
  readonly urls: Readonly<Record<LocalService, string>>;
  /**
   * What AWS SDKs and the AWS CLI need to reach the embedded services: region, credentials and
   * the standard AWS_ENDPOINT_URL_<SERVICE> variables.
   */
  readonly environment: Readonly<Record<string, string>>;
  /** Every setting as local mode gives it to its handlers: table names, the bucket, queue URLs. */
  readonly settings: PlatformSettings;
  /** The platform's functions, each in its own sandbox. */
  readonly functions: LocalFunctions;
  readonly dataDir: string;
  /** Development tokens accepted by the front door, with the claims each stands for. */
  readonly devUsers: typeof DEV_USERS;
  /** The local queues, to look into from tests and tools. */
  readonly queues: SqsStandIn;
  /** Jobs submitted to the local Batch. */
  readonly batch: BatchStandIn;
  /** Runs them, when a container engine is installed. */
  readonly jobs?: LocalJobExecutor;
  /** The build pipeline's executions, its builds and the jobs of its register action. */
  readonly builds: LocalBuildPipeline;
  /** How the SQS and EventBridge stand-ins deliver; its seed repeats a run. */
  readonly delivery: Delivery;
  /** The URL-signing key pairs; `deploy` rotates them as a deployment of the configuration would. */
  readonly signingKeys: LocalSigningKeys;
  /** Who may do what: the synthesized policies, checked in front of every local service. */
  readonly iam: LocalIam;
  /**
   * The public key (PEM, Ed25519) that session credentials verify with, as viewers read it from
   * the deployed SSM parameter; sessions open at `urls.viewer`.
   */
  readonly sessionPublicKeyPem: string;
  /** The viewer server at `urls.viewer`, with the memory its sessions hold. */
  readonly viewer: ViewerServer;
  /**
   * Stops local mode as if its machine went away, losing no work: the front door and the
   * triggers stop, queue messages under way go back to their queue, jobs under way stop (their
   * containers removed) and go back to their queue as after a lost host, and what is queued is
   * kept in the data folder for the next start.
   */
  stop(): Promise<void>;
}

/**
 * Starts local mode: the embedded services (S3, DynamoDB, SQS, Secrets Manager, CloudFront,
 * CloudWatch Logs, Batch, CodePipeline with CodeBuild's builds), the platform's functions made from the same deployments as the
 * deployed ones, their triggers, and the API front door. Refuses to start, naming the port, when
 * any port is taken; nothing is left running then, nor after a failed start.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  await assertPortsFree(options);
  const urls = Object.fromEntries(
    (Object.keys(options.ports) as LocalService[]).map((service) => [service, serviceUrl(options, service)]),
  ) as Record<LocalService, string>;
  const running: RunningService[] = [];
  const stopAll = async () => {
    for (const service of running.reverse().splice(0)) await service.stop();
  };
  try {
    const { host, ports, dataDir, bucketName, config } = options;
    const delivery: Delivery = { ...USUAL_DELIVERY, seed: randomInt(2 ** 31), ...options.delivery };
    // The platform as a deployment named `local` would be, as local mode's resources are named.
    const iam = await LocalIam.start({ ...config, name: 'local' }, options.templates);
    const credentials = iam.credentials.operator;
    const start = async <T extends RunningService>(service: Promise<T>): Promise<T> => {
      const started = await service;
      running.push(started);
      return started;
    };

    const s3Service = await start(
      startEmbeddedS3({
        dataDir,
        host,
        port: ports.s3,
        bucketName,
        webOrigins: config.webOrigins,
        access: { guard: iam.guard('s3'), secretOf: (id) => iam.credentials.secretOf(id) },
      }),
    );
    const dynamodbService = await start(
      startEmbeddedDynamoDb({
        dataDir,
        host,
        port: ports.dynamodb,
        tableName: localTableName,
        client: { region: LOCAL_REGION, credentials },
        guard: iam.guard('dynamodb'),
      }),
    );
    const queues = await start(
      startSqsStandIn({
        host,
        port: ports.sqs,
        delivery,
        stateFile: path.join(dataDir, 'sqs', 'messages.json'),
        queues: [
          {
            name: CONVERSION_QUEUE_NAME,
            visibilityTimeoutSeconds:
              options.conversionVisibilityTimeoutSeconds ?? CONVERSION_QUEUE.visibilityTimeoutSeconds,
            deadLetter: {
              queueName: CONVERSION_DEAD_LETTERS,
              maxReceiveCount: CONVERSION_QUEUE.maxReceiveCount,
            },
          },
          { name: CONVERSION_DEAD_LETTERS, visibilityTimeoutSeconds: 30 },
          { name: BACKGROUND_FAILURES, visibilityTimeoutSeconds: 30 },
          {
            name: BUILD_QUEUE_NAME,
            visibilityTimeoutSeconds: BUILD_QUEUE.visibilityTimeoutSeconds,
            deadLetter: { queueName: BUILD_DEAD_LETTERS, maxReceiveCount: BUILD_QUEUE.maxReceiveCount },
          },
          { name: BUILD_DEAD_LETTERS, visibilityTimeoutSeconds: 30 },
        ],
        guard: iam.guard('sqs'),
      }),
    );
    const secrets: SecretsManagerStandIn = await start(
      startSecretsManagerStandIn({
        host,
        port: ports.secretsManager,
        region: LOCAL_REGION,
        guard: iam.secretsManagerGuard(
          (id): string | undefined =>
            (secrets.secrets.get(id) ?? [...secrets.secrets.values()].find((s) => s.name === id))?.arn,
        ),
      }),
    );
    const signingKeys = localSigningKeys(
      dataDir,
      secrets,
      config,
      iam.synthesized.signingKeys.secretNamePrefix,
    );
    const pageTokenSecret = secrets.put(PAGE_TOKEN_SECRET_NAME, randomBytes(32).toString('hex'));
    const sessionKey = localSessionKey(dataDir, secrets, iam.synthesized.sessionSigningKey.secretNamePrefix);
    const names = localJobResourceNames(config);
    const access = iam.bind({
      region: LOCAL_REGION,
      bucketName,
      tableName: localTableName,
      queues: {
        conversion: { name: CONVERSION_QUEUE_NAME, url: queues.queueUrl(CONVERSION_QUEUE_NAME) },
        conversionDeadLetters: {
          name: CONVERSION_DEAD_LETTERS,
          url: queues.queueUrl(CONVERSION_DEAD_LETTERS),
        },
        backgroundFailures: { name: BACKGROUND_FAILURES, url: queues.queueUrl(BACKGROUND_FAILURES) },
        builds: { name: BUILD_QUEUE_NAME, url: queues.queueUrl(BUILD_QUEUE_NAME) },
        buildDeadLetters: { name: BUILD_DEAD_LETTERS, url: queues.queueUrl(BUILD_DEAD_LETTERS) },
      },
      signingKeys,
      pageTokenSecretArn: pageTokenSecret.arn,
      sessionSigningKeySecretArn: sessionKey.secretArn,
      distributionDomain: new URL(urls.cloudfront).host,
      jobs: names,
    });

    // Clients of this process, as the operator: the health probes.
    const clientConfig = { region: LOCAL_REGION, credentials };
    const s3Options = {
      endpoint: urls.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } as const;
    const s3 = new S3Client({ ...clientConfig, ...s3Options });
    // CloudFront reads the bucket through Origin Access Control, as itself for the distribution.
    const originAccess = new S3Client({
      region: LOCAL_REGION,
      credentials: iam.credentials.forService('cloudfront.amazonaws.com', access.distributionArn),
      ...s3Options,
    });
    const clients = {
      s3,
      dynamodb: new DynamoDBClient({ ...clientConfig, endpoint: urls.dynamodb }),
      secretsManager: new SecretsManagerClient({ ...clientConfig, endpoint: urls.secretsManager }),
      sqs: new SQSClient({ ...clientConfig, endpoint: urls.sqs }),
      batch: new BatchClient({ ...clientConfig, endpoint: urls.batch }),
      logs: new CloudWatchLogsClient({ ...clientConfig, endpoint: urls.logs }),
    };
    running.push({
      env: {},
      stop: async () => [...Object.values(clients), originAccess].forEach((client) => client.destroy()),
    });
    await start(
      startCloudFrontStandIn({
        host,
        port: ports.cloudfront,
        baseUrl: urls.cloudfront,
        trustedKeys: signingKeys.trustedKeys,
        s3: originAccess,
        bucketName,
      }),
    );

    const settings = localSettings(config, {
      bucketName,
      conversionQueueUrl: queues.queueUrl(CONVERSION_QUEUE_NAME),
      buildQueueUrl: queues.queueUrl(BUILD_QUEUE_NAME),
      buildLogGroup: access.values.refOf(iam.synthesized.buildLogGroup),
      imagesBaseUrl: urls.cloudfront,
      currentSigningKeySecretArn: signingKeys.currentKeySecretArn,
      pageTokenSecretArn: pageTokenSecret.arn,
      sessionSigningKeySecretArn: sessionKey.secretArn,
      viewerOrigin: urls.viewer,
      conversionWorkDir: path.join(dataDir, 'converter-tmp'),
    });
    // Sandboxes start with an empty /tmp: what those of an earlier run left goes.
    fs.rmSync(settings.conversionWorkDir, { recursive: true, force: true });
    // Each service answers for its endpoint variable; Batch's and Logs' start below at their ports.
    const endpoints: Record<string, string> = {
      ...s3Service.env,
      ...dynamodbService.env,
      ...queues.env,
      ...secrets.env,
      AWS_ENDPOINT_URL_BATCH: urls.batch,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: urls.logs,
      AWS_ENDPOINT_URL_CODEPIPELINE: urls.codepipeline,
      AWS_ENDPOINT_URL_CODEBUILD: urls.codepipeline,
    };
    // What `npm start` prints and tests use: the operator's credentials, allowed everything.
    const environment: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...endpoints,
    };
    // What every function and container gets besides its own variables and credentials.
    const runtime = {
      ...Object.fromEntries(
        PROCESS_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
      ),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: LOCAL_REGION,
      ...endpoints,
    };
    const functions = localFunctions({
      settings,
      runtime,
      iam,
      sqsEndpoint: urls.sqs,
      queueUrl: (name) => queues.queueUrl(name),
      jobQueues: { gpu: names.gpuJobQueue, cpu: names.cpuJobQueue, converter: names.converterJobQueue },
      events: delivery,
    });
    running.push(functions);

    // Jobs run in a local container engine, through the same runner code as in the cloud.
    let executor: LocalJobExecutor | undefined;
    let algorithms: AlgorithmJobRunner | string | undefined;
    const batchRef: { current?: BatchStandIn } = {};
    // Builds use it whatever becomes of jobs.
    const engine = findContainerEngine();
    if (options.jobs !== 'record') {
      if (engine) {
        executor = localJobExecutor({
          s3: (credentials) => new S3Client({ region: LOCAL_REGION, credentials, ...s3Options }),
          bucket: bucketName,
          engine,
          graceSeconds: options.jobGraceSeconds ?? 30,
          onEvent: (detail) => functions.deliverBatchEvent(detail),
          iam,
          jobDefinition: (name) => batchRef.current?.jobDefinition(name),
        });
        algorithms = executor;
      } else {
        algorithms = NO_CONTAINER_ENGINE;
      }
    }
    // As the deployed job definition does: converter jobs run the converter container, with the
    // environment and the job role its definition gives it.
    const converterCredentials = iam.credentials.forRole(access.converter.jobRoleArn, 'image-converter');
    const converter = localConverterContainer({
      environment: (scratch) => ({
        ...runtime,
        ...localEnvironment(access.converter.environment, { ...settings, conversionWorkDir: scratch }),
        TMPDIR: scratch,
        AWS_ACCESS_KEY_ID: converterCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: converterCredentials.secretAccessKey,
      }),
      scratchRoot: path.join(dataDir, 'converter-scratch'),
      logDir: path.join(dataDir, 'logs', 'image-converter'),
    });
    // Staging jobs copy with the stager's job role, as its job definition gives it.
    const stagerS3 = new S3Client({
      region: LOCAL_REGION,
      credentials: iam.credentials.forRole(access.inputStager.jobRoleArn, 'job-input-stager'),
      ...s3Options,
    });
    running.push({ env: {}, stop: async () => stagerS3.destroy() });
    const batch = await start(
      startBatchStandIn({
        host,
        port: ports.batch,
        runners: {
          [names.converterJobDefinition]: converter.run,
          // Staging jobs copy each job's inputs under its folder before it runs, as on AWS.
          [names.inputStagingJobDefinition]: localInputStager({
            environment: localEnvironment(access.inputStager.environment, settings),
            s3: stagerS3,
          }),
        },
        onStateChange: (event) => functions.deliverBatchEvent(event.detail),
        algorithms,
        guard: iam.batchGuard((name) => batchRef.current?.jobDefinition(name)?.revision),
        stateFile: path.join(dataDir, 'batch', 'jobs.json'),
      }),
    );
    batchRef.current = batch;
    // The build pipeline: the builder runs in this machine's engine, its image stays there.
    const buildNames = buildResourceNames({ name: 'local' });
    const buildLogs = new LocalLogStreams<LocalLogEvent>();
    const { buildLogGroup } = settings;
    const builds = new LocalBuildPipeline({
      pipeline: buildNames.pipeline,
      project: buildNames.project,
      logGroup: buildLogGroup,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      bucket: bucketName,
      s3,
      scratchRoot: path.join(dataDir, 'build-scratch'),
      concurrency: options.buildConcurrency ?? BUILD_CONCURRENCY,
      buildTimeoutMs: (options.buildTimeoutSeconds ?? settings.buildTimeoutMinutes * 60) * 1000,
      projectEnvironment: {
        [BUILDER_ENVIRONMENT.repository]: settings.algorithmRepositoryUri,
        [BUILDER_ENVIRONMENT.engine]: engine?.command ?? '',
        [BUILDER_ENVIRONMENT.pullNever]: 'true',
        [BUILDER_ENVIRONMENT.push]: 'false',
        ...BUILD_LIMITS.variables(settings),
      },
      run: builderProcess(),
      logs: buildLogs,
      emit: (detail) => functions.deliverBuildEvent(detail),
      register: functions.pipelineAction,
      actionTimeoutMs: PIPELINE_ACTION_TIMEOUT_MS,
      stateFile: path.join(dataDir, 'codepipeline', 'executions.json'),
    });
    await start(
      startCodePipelineStandIn({
        host,
        port: ports.codepipeline,
        pipeline: builds,
        guard: iam.guard('codepipeline'),
      }),
    );
    // The runner's lines, as CloudWatch Logs would keep them: JSON `{ source, message }` per line;
    // the builder's as CodeBuild keeps them, a line each.
    await start(
      startLogsStandIn({
        host,
        port: ports.logs,
        events: (group, stream) =>
          group === buildLogGroup
            ? buildLogs.get(stream)
            : executor?.logs.get(stream)?.map((line) => ({
                timestamp: line.timestamp,
                message: JSON.stringify({ source: line.source, message: line.message }),
              })),
        guard: iam.guard('logs'),
      }),
    );

    const probes = {
      urls: {
        s3: urls.s3,
        dynamodb: urls.dynamodb,
        sqs: urls.sqs,
        batch: urls.batch,
        cloudfront: urls.cloudfront,
        secretsManager: urls.secretsManager,
        logs: urls.logs,
        codepipeline: urls.codepipeline,
      },
      ...clients,
      operatorAccessKeyId: credentials.accessKeyId,
      buildPipelineName: buildNames.pipeline,
      conversionQueueUrl: settings.conversionQueueUrl,
      bucketName,
      signingKeySecretArn: signingKeys.currentKeySecretArn,
    };
    await start(
      startFrontDoor({
        host,
        port: ports.api,
        routes: apiRoutes(API_OPERATIONS, functions.invokeOperation, {
          // Local health also reports each embedded service.
          getHealth: async () => {
            const services = await checkServices(probes);
            const ok = Object.values(services).every((s) => s.ok);
            return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', services } };
          },
        }),
        webOrigins: config.webOrigins,
        corsAllowHeaders: corsAllowHeaders(API_OPERATIONS),
      }),
    );
    // The viewer, in this process: it shows the sessions the API starts, reading their images
    // through the CloudFront stand-in and reporting to the API as a deployed viewer does.
    const viewer = await start(
      startLocalViewer({
        host,
        port: ports.viewer,
        publicKeyPem: sessionKey.publicKeyPem,
        origin: urls.viewer,
        apiUrl: urls.api,
      }),
    );
    // As the deployed event sources and schedules do.
    functions.startTriggers();
    // Builds that the last stop interrupted run again.
    builds.resume();
    // Stopped first, so that what they hold goes back to its queue while the services are up.
    running.push({ env: {}, stop: () => functions.stopTriggers() });

    return {
      urls,
      environment,
      settings,
      functions,
      dataDir,
      devUsers: DEV_USERS,
      queues,
      batch,
      jobs: executor,
      builds,
      delivery,
      signingKeys,
      iam,
      sessionPublicKeyPem: sessionKey.publicKeyPem,
      viewer,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Refuses to start, naming the port and the variable that moves it, when a port is taken. */
async function assertPortsFree(options: LocalPlatformOptions): Promise<void> {
  for (const service of Object.keys(options.ports) as LocalService[]) {
    const port = options.ports[service];
    try {
      await assertPortFree(options.host, port);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LocalPlatformError(
        code === 'EADDRINUSE'
          ? `Port ${port} on ${options.host} for the ${SERVICE_NAMES[service]} is already in use. Stop what holds it, or set ${PORT_VARIABLES[service]} to another port.`
          : `Cannot listen on ${options.host}:${port} for the ${SERVICE_NAMES[service]}: ${(err as Error).message}`,
      );
    }
  }
}
