import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CONVERSION_QUEUE } from '../lambda/contracts/conversion-queue';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { startCloudFrontStandIn } from './cloudfront-stand-in';
import { S3RVER_CREDENTIALS, startEmbeddedS3 } from './embedded-s3';
import { startEmbeddedDynamoDb } from './embedded-dynamodb';
import { CONVERSION_PERMISSIONS } from '../lib/images/conversion-permissions';
import { jobHandlerEnvironment, uploadHandlerEnvironment } from '../lib/core/handler-environment';
import { findContainerEngine } from '../containers/jobs/runner/container-engine';
import {
  AlgorithmJobRunner,
  BatchStandIn,
  LocalBatchJobStateChange,
  startBatchStandIn,
} from './batch-stand-in';
import { localConverterContainer } from './converter-container';
import { LocalJobExecutor, localJobExecutor } from './local-job-executor';
import { startLogsStandIn } from './logs-stand-in';
import { TABLES, TableName } from '../lambda/contracts/tables';
import { apiRoutes, loadHandler } from './api-routes';
import { pollQueue } from './queue-poller';
import { DEV_USERS } from './dev-users';
import { apiError, startFrontDoor } from './front-door';
import { ensureLocalTables, localTableNames } from './local-tables';
import {
  LocalPlatformOptions,
  LocalService,
  PORT_VARIABLES,
  NO_CONTAINER_ENGINE,
  SERVICE_NAMES,
  serviceUrl,
} from './local-options';
import { loadOrCreateLocalSigningKey } from './local-signing-key';
import { assertPortFree } from './port-check';
import { checkServices } from './service-health';
import { startSecretsManagerStandIn } from './secrets-manager-stand-in';
import { SqsStandIn, startSqsStandIn } from './sqs-stand-in';

/** Region that local clients name; the embedded servers ignore it. */
const LOCAL_REGION = defaultPlatformConfig.homeRegion;
/** Name of the secret holding the local signing key, as the deployed key pair resource would write it. */
const SIGNING_KEY_SECRET_NAME = 'local/url-signing-key';
const CONVERSION_QUEUE_NAME = 'local-image-conversion';
/** The converter container's Batch queue and job definition, as `jobResourceNames` names them when deployed. */
const CONVERTER_JOB_QUEUE = 'local-conversion-jobs';
const CONVERTER_JOB_DEFINITION = 'local-image-converter';

export class LocalPlatformError extends Error {}

export interface LocalPlatform {
  readonly urls: Readonly<Record<LocalService, string>>;
  /**
   * The variables a handler reads in Lambda, pointed at the embedded services: AWS SDK clients
   * follow AWS_ENDPOINT_URL_<SERVICE>, the signer its own variables.
   */
  readonly environment: Readonly<Record<string, string>>;
  readonly dataDir: string;
  /** Development tokens accepted by the front door, with the claims each stands for. */
  readonly devUsers: typeof DEV_USERS;
  /** The local queues, to look into from tests and tools. */
  readonly queues: SqsStandIn;
  /** Jobs submitted to the local Batch. */
  readonly batch: BatchStandIn;
  /** Runs them, when a container engine is installed. */
  readonly jobs?: LocalJobExecutor;
  stop(): Promise<void>;
}

/**
 * Starts local mode: embedded S3 and DynamoDB with data kept in `dataDir`, the Secrets Manager
 * and CloudFront stand-ins holding the local signing key, and the API front door.
 * Refuses to start, naming the port, when any port is taken; nothing is left running then.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
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

  const urls = Object.fromEntries(
    (Object.keys(options.ports) as LocalService[]).map((service) => [service, serviceUrl(options, service)]),
  ) as Record<LocalService, string>;
  const running: { stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const service of running.reverse().splice(0)) await service.stop();
  };

  try {
    const { host, ports, dataDir, bucketName } = options;
    running.push(
      await startEmbeddedS3({
        dataDir,
        host,
        port: ports.s3,
        bucketName,
        webOrigins: options.config.webOrigins,
      }),
    );
    running.push(await startEmbeddedDynamoDb({ dataDir, host, port: ports.dynamodb }));
    const sqsStandIn = await startSqsStandIn({
      host,
      port: ports.sqs,
      queues: [
        {
          name: CONVERSION_QUEUE_NAME,
          visibilityTimeoutSeconds: CONVERSION_QUEUE.visibilityTimeoutSeconds,
          deadLetter: {
            queueName: `${CONVERSION_QUEUE_NAME}-dead-letter`,
            maxReceiveCount: CONVERSION_QUEUE.maxReceiveCount,
          },
        },
        { name: `${CONVERSION_QUEUE_NAME}-dead-letter`, visibilityTimeoutSeconds: 30 },
      ],
    });
    running.push(sqsStandIn);

    const secretsManagerStandIn = await startSecretsManagerStandIn({
      host,
      port: ports.secretsManager,
      region: LOCAL_REGION,
    });
    running.push(secretsManagerStandIn);
    const signingKey = loadOrCreateLocalSigningKey(dataDir);
    const signingSecret = secretsManagerStandIn.put(SIGNING_KEY_SECRET_NAME, signingKey.privateKeyPem);

    const clientConfig = { region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS };
    const s3 = new S3Client({
      ...clientConfig,
      endpoint: urls.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    running.push({ stop: async () => s3.destroy() });

    // Jobs run in a local container engine, through the same runner code as in the cloud.
    let executor: LocalJobExecutor | undefined;
    let algorithms: AlgorithmJobRunner | string | undefined;
    if (options.jobs !== 'record') {
      const engine = findContainerEngine();
      if (engine) {
        executor = localJobExecutor({
          s3,
          bucket: bucketName,
          engine,
          graceSeconds: options.jobGraceSeconds ?? 30,
          onEvent: (detail) =>
            loadHandler<(event: unknown) => Promise<void>>('batch-job-state-change')({
              source: 'aws.batch',
              'detail-type': 'Batch Job State Change',
              detail,
            }),
        });
        algorithms = executor;
      } else {
        algorithms = NO_CONTAINER_ENGINE;
      }
    }
    // As the deployed job definition and EventBridge rule do: converter jobs run the converter
    // container, and a converter job that fails marks its image Failed.
    let containerEnvironment: Record<string, string> = {};
    const converterContainer = localConverterContainer({
      environment: () => containerEnvironment,
      scratchRoot: path.join(dataDir, 'converter-scratch'),
      logDir: path.join(dataDir, 'logs', 'image-converter'),
    });
    const batchStandIn = await startBatchStandIn({
      host,
      port: ports.batch,
      runners: { [CONVERTER_JOB_DEFINITION]: converterContainer.run },
      onStateChange: async (event: LocalBatchJobStateChange) => {
        if (event.detail.jobQueue.endsWith(`/${CONVERTER_JOB_QUEUE}`) && event.detail.status === 'FAILED') {
          await loadHandler<(e: LocalBatchJobStateChange) => Promise<void>>('fail-converter-job')(event);
        }
      },
      algorithms,
    });
    running.push(batchStandIn);
    running.push(converterContainer);
    // The runner's lines, as CloudWatch Logs would keep them: JSON `{ source, message }` per line.
    running.push(
      await startLogsStandIn({
        host,
        port: ports.logs,
        events: (_, stream) =>
          executor?.logs.get(stream)?.map((line) => ({
            timestamp: line.timestamp,
            message: JSON.stringify({ source: line.source, message: line.message }),
          })),
      }),
    );
    running.push({ stop: async () => executor?.idle() });
    running.push(
      await startCloudFrontStandIn({
        host,
        port: ports.cloudfront,
        baseUrl: urls.cloudfront,
        trustedKeys: new Map([[signingKey.keyPairId, signingKey.publicKey]]),
        s3,
        bucketName,
      }),
    );

    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: urls.dynamodb });
    const secretsManager = new SecretsManagerClient({ ...clientConfig, endpoint: urls.secretsManager });
    const sqs = new SQSClient({ ...clientConfig, endpoint: urls.sqs });
    const batch = new BatchClient({ ...clientConfig, endpoint: urls.batch });
    const logs = new CloudWatchLogsClient({ ...clientConfig, endpoint: urls.logs });
    running.push({
      stop: async () => [dynamodb, secretsManager, sqs, batch, logs].forEach((client) => client.destroy()),
    });
    await ensureLocalTables(dynamodb);

    const environment: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: urls.s3,
      AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: urls.secretsManager,
      AWS_ENDPOINT_URL_SQS: urls.sqs,
      AWS_ENDPOINT_URL_BATCH: urls.batch,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: urls.logs,
      GPU_JOB_QUEUE: 'local-gpu-jobs',
      CPU_JOB_QUEUE: 'local-cpu-jobs',
      JOB_DEFINITION_PREFIX: 'local-algorithm-',
      JOB_ROLE_ARN: 'arn:aws:iam::000000000000:role/local-job',
      JOB_EXECUTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/local-job-execution',
      JOB_LOG_GROUP: '/local/jobs',
      ...jobHandlerEnvironment(options.config),
      CONVERTER_JOB_QUEUE,
      CONVERTER_JOB_DEFINITION,
      LAMBDA_MAX_SET_BYTES: String(options.config.conversion.lambdaMaxSetBytes),
      // The converter function's /tmp.
      CONVERSION_WORK_DIR: path.join(dataDir, 'converter-tmp'),
      [CONVERSION_QUEUE.urlVariable]: sqsStandIn.queueUrl(CONVERSION_QUEUE_NAME),
      IMAGING_BUCKET: bucketName,
      // Algorithms may name images built on this machine.
      LOCAL_IMAGES_ALLOWED: 'true',
      WEB_ORIGINS: options.config.webOrigins.join(','),
      IMAGES_BASE_URL: urls.cloudfront,
      SIGNING_KEY_PAIR_ID: signingKey.keyPairId,
      SIGNING_KEY_SECRET_ARN: signingSecret.arn,
      SIGNED_URL_SECONDS: String(options.config.limits.signedUrlSeconds),
      ...uploadHandlerEnvironment(options.config),
      ...Object.fromEntries(
        Object.entries(localTableNames()).map(([table, name]) => [
          TABLES[table as TableName].nameVariable,
          name,
        ]),
      ),
    };
    // Handlers run in this process and read their settings from its environment, as in Lambda.
    Object.assign(process.env, environment);
    containerEnvironment = {
      ...Object.fromEntries(
        [
          'AWS_REGION',
          'AWS_ACCESS_KEY_ID',
          'AWS_SECRET_ACCESS_KEY',
          'AWS_ENDPOINT_URL_S3',
          'AWS_ENDPOINT_URL_DYNAMODB',
          'IMAGING_BUCKET',
          ...(Object.keys(CONVERSION_PERMISSIONS.tables) as TableName[]).map(
            (table) => TABLES[table].nameVariable,
          ),
        ].map((name) => [name, environment[name]]),
      ),
    };
    const probes = {
      urls: {
        s3: urls.s3,
        dynamodb: urls.dynamodb,
        sqs: urls.sqs,
        batch: urls.batch,
        cloudfront: urls.cloudfront,
        secretsManager: urls.secretsManager,
        logs: urls.logs,
      },
      s3,
      dynamodb,
      secretsManager,
      sqs,
      batch,
      logs,
      conversionQueueUrl: sqsStandIn.queueUrl(CONVERSION_QUEUE_NAME),
      bucketName,
      signingKeySecretArn: signingSecret.arn,
    };
    running.push(
      await startFrontDoor({
        host,
        port: ports.api,
        routes: [
          ...apiRoutes({
            // Local health also reports each embedded service.
            getHealth: async () => {
              const services = await checkServices(probes);
              const ok = Object.values(services).every((s) => s.ok);
              return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', services } };
            },
          }),
          {
            method: 'GET',
            path: '/',
            handle: async () => ({ status: 404, body: apiError('NotFound', 'the API lives under /v1') }),
          },
        ],
      }),
    );

    // As the deployed event sources do: the converter consumes the conversion queue, and an
    // image whose message ends in the dead-letter queue is marked Failed.
    const conversionQueueUrl = sqsStandIn.queueUrl(CONVERSION_QUEUE_NAME);
    running.push(pollQueue(sqs, conversionQueueUrl, () => loadHandler('convert-image')));
    running.push(
      pollQueue(sqs, sqsStandIn.queueUrl(`${CONVERSION_QUEUE_NAME}-dead-letter`), () =>
        loadHandler('fail-unconverted-image'),
      ),
    );

    // As the deployed schedule does: abandoned uploads are aborted every hour.
    const sweeper = setInterval(() => {
      const sweep = loadHandler<() => Promise<unknown>>('upload-sweeper');
      sweep().catch((err: Error) => console.error(`upload sweeper failed: ${err.message}`));
    }, 3600_000);
    sweeper.unref();
    running.push({ stop: async () => clearInterval(sweeper) });

    return {
      urls,
      dataDir,
      environment,
      devUsers: DEV_USERS,
      queues: sqsStandIn,
      batch: batchStandIn,
      jobs: executor,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
