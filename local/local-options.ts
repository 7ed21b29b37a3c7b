import * as path from 'node:path';
import { defaultPlatformConfig, PlatformConfig } from '../lib/config/platform-config';
import { Delivery } from './services/delivery';
import type { SynthesizedPlatform } from './iam/synthesized-platform';

/** The embedded services of local mode, each on its own loopback port. */
export type LocalService =
  | 'api'
  | 's3'
  | 'dynamodb'
  | 'sqs'
  | 'batch'
  | 'cloudfront'
  | 'secretsManager'
  | 'logs'
  | 'codepipeline'
  /** The viewer server (`local/local-viewer.ts`): sessions that the API starts open there. */
  | 'viewer';

export interface LocalPlatformOptions {
  /** Folder that keeps S3 objects, DynamoDB tables and the local signing key across restarts. */
  readonly dataDir: string;
  /** Loopback address that every service binds to. */
  readonly host: string;
  readonly ports: Readonly<Record<LocalService, number>>;
  /** Name of the imaging bucket in the embedded S3. */
  readonly bucketName: string;
  /** The platform configuration whose limits the handlers apply. */
  readonly config: PlatformConfig;
  /** Jobs run in a container engine (the default), or are only recorded, for tests of the API alone. */
  readonly jobs?: 'run' | 'record';
  /** Seconds an algorithm has between SIGTERM and SIGKILL at its time limit. */
  readonly jobGraceSeconds?: number;
  /**
   * How the SQS and EventBridge stand-ins deliver: at least once and in no guaranteed order, by
   * default as rarely as AWS usually departs from once and in order. Tests set the seed, and
   * `CHAOS_DELIVERY` to make duplicates and reordering frequent.
   * @default USUAL_DELIVERY with a random seed
   */
  readonly delivery?: Partial<Delivery>;
  /**
   * The conversion queue's visibility timeout, for tests that need a message back soon.
   * @default CONVERSION_QUEUE.visibilityTimeoutSeconds, as deployed
   */
  readonly conversionVisibilityTimeoutSeconds?: number;
  /**
   * Changes the synthesized templates before local mode reads its policies from them, to see it
   * refuse what AWS would refuse to a platform deployed so (a statement removed, say).
   * @default - the templates as synthesized
   */
  readonly templates?: (synthesized: SynthesizedPlatform) => SynthesizedPlatform;
  /**
   * Builds the local build pipeline runs at once; the others wait (LOCAL_BUILD_CONCURRENCY).
   * @default 2
   */
  readonly buildConcurrency?: number;
  /**
   * Seconds a build may run before it is stopped and ends TIMED_OUT, for tests that need the
   * timeout soon: builds.timeoutMinutes is 5 minutes at least.
   * @default builds.timeoutMinutes
   */
  readonly buildTimeoutSeconds?: number;
}

/** Why a job cannot run locally, as SubmitJob answers it. */
export const NO_CONTAINER_ENGINE =
  'no container engine answers on this machine, so local mode cannot run jobs: install podman (Debian: apt-get install podman runc) or docker, or set LOCAL_CONTAINER_ENGINE';

/** Why a build cannot be pushed locally, as `POST /v1/algorithms/{id}/builds` answers it. */
export const NO_BUILD_ENGINE =
  'no container engine answers on this machine, so local mode cannot build algorithms: install podman (Debian: apt-get install podman runc) or docker, or set LOCAL_CONTAINER_ENGINE';

export const DEFAULT_PORTS: Readonly<Record<LocalService, number>> = {
  api: 4000,
  s3: 4569,
  dynamodb: 4567,
  sqs: 4573,
  batch: 4574,
  cloudfront: 4571,
  secretsManager: 4572,
  logs: 4575,
  codepipeline: 4576,
  viewer: 4577,
};

/** Environment variable that moves each service to another port. */
export const PORT_VARIABLES: Readonly<Record<LocalService, string>> = {
  api: 'LOCAL_API_PORT',
  s3: 'LOCAL_S3_PORT',
  dynamodb: 'LOCAL_DYNAMODB_PORT',
  sqs: 'LOCAL_SQS_PORT',
  batch: 'LOCAL_BATCH_PORT',
  cloudfront: 'LOCAL_CLOUDFRONT_PORT',
  secretsManager: 'LOCAL_SECRETS_MANAGER_PORT',
  logs: 'LOCAL_LOGS_PORT',
  codepipeline: 'LOCAL_CODEPIPELINE_PORT',
  viewer: 'LOCAL_VIEWER_PORT',
};

export const SERVICE_NAMES: Readonly<Record<LocalService, string>> = {
  api: 'API front door',
  s3: 'S3 (s3rver)',
  dynamodb: 'DynamoDB (dynalite)',
  sqs: 'SQS stand-in',
  batch: 'Batch stand-in',
  cloudfront: 'CloudFront stand-in',
  secretsManager: 'Secrets Manager stand-in',
  logs: 'CloudWatch Logs stand-in',
  codepipeline: 'CodePipeline stand-in',
  viewer: 'viewer server',
};

/** The one place local mode reads its environment: ports, data folder, the seed of its deliveries. */
export function localOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env): LocalPlatformOptions {
  const ports = { ...DEFAULT_PORTS };
  for (const service of Object.keys(ports) as LocalService[]) {
    const raw = env[PORT_VARIABLES[service]];
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${PORT_VARIABLES[service]} must be a port number from 1 to 65535, got "${raw}"`);
    }
    ports[service] = port;
  }
  const seed = env.LOCAL_DELIVERY_SEED;
  if (seed !== undefined && seed !== '' && !/^\d{1,9}$/.test(seed)) {
    throw new Error(`LOCAL_DELIVERY_SEED must be a whole number, got "${seed}"`);
  }
  const concurrency = env.LOCAL_BUILD_CONCURRENCY;
  if (concurrency !== undefined && concurrency !== '' && !/^[1-9]\d{0,2}$/.test(concurrency)) {
    throw new Error(`LOCAL_BUILD_CONCURRENCY must be a whole number from 1, got "${concurrency}"`);
  }
  return {
    ...(seed && { delivery: { seed: Number(seed) } }),
    ...(concurrency && { buildConcurrency: Number(concurrency) }),
    dataDir: path.resolve(env.LOCAL_DATA_DIR || path.join(__dirname, '..', '.local')),
    host: '127.0.0.1',
    ports,
    bucketName: 'imaging-platform-local',
    config: defaultPlatformConfig,
  };
}

export function serviceUrl(options: LocalPlatformOptions, service: LocalService): string {
  return `http://${options.host}:${options.ports[service]}`;
}
