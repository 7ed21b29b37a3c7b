import type { APIGatewayProxyResult } from 'aws-lambda';
import * as path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  ApiOperation,
  BackgroundFunction,
  FunctionSizing,
  HandlerDeployment,
  JobQueueKind,
} from '../lambda/contracts/handler-deployment';
import { BatchJobDetail, BatchJobStateChange } from '../lambda/contracts/batch-job-state-change';
import { environmentVariables, PlatformSettings } from '../lambda/contracts/handler-environment';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../lambda/deployments';
import { LocalFunction } from './functions/local-function';
import { pollQueue } from './functions/queue-poller';
import { RunningService } from './services/running-service';

/** Seconds an API operation's function may run: it ends before API Gateway's 29 s. */
const API_TIMEOUT_SECONDS = 28;
/** What a function that names no sizing gets, as `PlatformFunction` deploys it. */
const DEFAULT_TIMEOUT_SECONDS = 60;
/** Run in the sandbox of a function that activates versions: checks images built on this machine. */
const LOCAL_IMAGE_CHECK = path.join(__dirname, 'jobs', 'local-image-check.ts');

export interface LocalFunctions extends RunningService {
  /** Invokes an operation's function with an API Gateway proxy event. */
  invokeOperation(operation: ApiOperation, event: unknown): Promise<APIGatewayProxyResult>;
  /**
   * Delivers a `Batch Job State Change` event, as EventBridge would, to every function whose
   * trigger matches its queue and status.
   */
  deliverBatchEvent(detail: BatchJobDetail): Promise<void>;
  /** Starts the queue and schedule triggers; stopped with the functions. */
  startTriggers(options: {
    sqs: SQSClient;
    queueUrl: (queue: 'conversion' | 'conversionDeadLetters') => string;
  }): void;
  /** The function of a handler folder, for tests and tools. */
  get(handler: string): LocalFunction;
  /** What each function's environment is, by handler folder. */
  readonly environments: ReadonlyMap<string, Readonly<Record<string, string>>>;
  stop(): Promise<void>;
}

/**
 * The platform's functions in local mode, made from the same deployments as the deployed ones
 * (`API_OPERATIONS`, `BACKGROUND_FUNCTIONS`): each gets exactly its own environment (the variables
 * of its settings groups, plus what Lambda's runtime gives every function) and its own sandbox,
 * and is invoked by what its trigger names. Custom resources run only in a deployment.
 */
export function localFunctions(options: {
  readonly settings: PlatformSettings;
  /** What every function's environment holds besides its settings: region, credentials, endpoints. */
  readonly runtime: Readonly<Record<string, string>>;
  /** The Batch queue that each kind names in triggers. */
  readonly jobQueues: Readonly<Record<JobQueueKind, string>>;
}): LocalFunctions {
  const { settings, runtime } = options;
  const deployments: readonly (ApiOperation | BackgroundFunction)[] = [
    ...API_OPERATIONS,
    ...BACKGROUND_FUNCTIONS.filter((d) => d.trigger.kind !== 'customResource'),
  ];
  const functions = new Map<string, LocalFunction>();
  const environments = new Map<string, Record<string, string>>();
  for (const deployment of deployments) {
    const environment = {
      ...runtime,
      POWERTOOLS_SERVICE_NAME: path.basename(deployment.handler),
      ...environmentVariables(deployment, settings),
    };
    environments.set(deployment.handler, environment);
    functions.set(
      deployment.handler,
      new LocalFunction({
        handler: deployment.handler,
        environment,
        timeoutSeconds: timeoutOf(deployment, settings),
        setUp: deployment.permissions.activatesVersions ? [LOCAL_IMAGE_CHECK] : [],
        missingModules: 'externalModules' in deployment ? deployment.externalModules : [],
      }),
    );
  }
  const get = (handler: string) => {
    const fn = functions.get(handler);
    if (!fn) throw new Error(`no local function for ${handler}`);
    return fn;
  };
  const background = BACKGROUND_FUNCTIONS;
  const running: RunningService[] = [];

  return {
    env: {},
    environments,
    get,
    invokeOperation: (operation, event) => get(operation.handler).invoke<APIGatewayProxyResult>(event),
    async deliverBatchEvent(detail) {
      const queue = detail.jobQueue.split('/').pop();
      const targets = background.filter(
        ({ trigger }) =>
          trigger.kind === 'batchJobStateChange' &&
          trigger.queues.some((kind) => options.jobQueues[kind] === queue) &&
          (!trigger.statuses || trigger.statuses.includes(detail.status)),
      );
      for (const target of targets) {
        const event: BatchJobStateChange = {
          source: 'aws.batch',
          'detail-type': 'Batch Job State Change',
          detail,
        };
        await get(target.handler).invoke(event);
      }
    },
    startTriggers({ sqs, queueUrl }) {
      for (const deployment of background) {
        const { trigger } = deployment;
        const fn = get.bind(undefined, deployment.handler);
        if (trigger.kind === 'queue') {
          running.push(
            pollQueue(sqs, queueUrl(trigger.queue), trigger.batchSize, (event) => fn().invoke(event)),
          );
        } else if (trigger.kind === 'schedule') {
          const timer = setInterval(() => {
            fn()
              .invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })
              .catch((err: Error) => console.error(`${deployment.handler} failed: ${err.message}`));
          }, trigger.everyMinutes * 60_000);
          timer.unref();
          running.push({ env: {}, stop: async () => clearInterval(timer) });
        }
      }
    },
    async stop() {
      for (const service of running.splice(0)) await service.stop();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
    },
  };
}

function timeoutOf(deployment: HandlerDeployment, settings: PlatformSettings): number {
  if ('operationId' in deployment) return API_TIMEOUT_SECONDS;
  const { sizing } = deployment as BackgroundFunction;
  const resolved: FunctionSizing = typeof sizing === 'function' ? sizing(settings) : (sizing ?? {});
  return resolved.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}
