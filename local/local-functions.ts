import type { APIGatewayProxyResult } from 'aws-lambda';
import * as path from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  ApiOperation,
  BackgroundFunction,
  FunctionSizing,
  HandlerDeployment,
  JobQueueKind,
} from '../lambda/contracts/handler-deployment';
import { BatchJobDetail, BatchJobStateChange } from '../lambda/contracts/batch-job-state-change';
import { BuildStateChangeDetail } from '../lambda/contracts/builds';
import { CONVERSION_SCRATCH } from '../lambda/contracts/converter-jobs';
import { PlatformSettings } from '../lambda/contracts/handler-environment';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../lambda/deployments';
import { localEnvironment } from './functions/deployed-environment';
import { LocalFunction } from './functions/local-function';
import { pollQueue } from './functions/queue-poller';
import { deliverThroughRule, SendAs } from './functions/rule-delivery';
import type { LocalCredentials } from './iam/local-credentials';
import type { LocalIam } from './iam/local-iam';
import { Delivery } from './services/delivery';
import { RunningService } from './services/running-service';
import { seededRandom } from './services/seeded-random';

/** Seconds an API operation's function may run: it ends before API Gateway's 29 s. */
const API_TIMEOUT_SECONDS = 28;
/** What a function that names no sizing gets, as `PlatformFunction` deploys it. */
const DEFAULT_TIMEOUT_SECONDS = 60;
/** Run in the sandbox of a function that activates versions: checks images built on this machine. */
const LOCAL_IMAGE_CHECK = path.join(__dirname, 'jobs', 'local-image-check.ts');
/** Run in the sandbox of a build function: builds happen, and their images stay, in the local engine. */
const LOCAL_BUILD_HOOKS = path.join(__dirname, 'builds', 'local-build-hooks.ts');
/**
 * Batches an SQS event source hands to its function at once, at most (Lambda's own least
 * maximum): enough for a message whose visibility timeout ran out to reach a second invocation
 * while the first still runs, few enough for a laptop.
 */
const LOCAL_QUEUE_CONCURRENCY = 2;
/**
 * Sandboxes of an API operation's or an event-triggered function at once: Lambda would start one
 * per concurrent invocation; a laptop runs a few, and further invocations wait for one.
 */
const LOCAL_SANDBOXES = 4;
/** Longest an event that EventBridge takes out of order waits, in milliseconds. */
const EVENT_REORDER_MS = 300;

export interface LocalFunctions extends RunningService {
  /** Invokes an operation's function with an API Gateway proxy event. */
  invokeOperation(operation: ApiOperation, event: unknown): Promise<APIGatewayProxyResult>;
  /**
   * Delivers a `Batch Job State Change` event, as EventBridge would, to every function whose
   * trigger matches its queue and status.
   */
  deliverBatchEvent(detail: BatchJobDetail): Promise<void>;
  /**
   * Delivers a CodeBuild `Build State Change` event of the build project, as EventBridge would,
   * to every function with a `buildStateChange` trigger.
   */
  deliverBuildEvent(detail: BuildStateChangeDetail): Promise<void>;
  /**
   * The function that the build pipeline's register action invokes (its deployed name), if one
   * has a `buildPipelineAction` trigger.
   */
  readonly pipelineAction?: { readonly functionName: string; invoke(event: unknown): Promise<unknown> };
  /** Starts the queue and schedule triggers; stopped with the functions. */
  startTriggers(): void;
  /**
   * Stops the triggers: no more polling and no more schedules. The queue invocations under way are
   * abandoned (their sandboxes stop, as if the machine went away) and their messages go back to
   * the queue; events on their way are delivered.
   */
  stopTriggers(): Promise<void>;
  /** The function of a handler folder, for tests and tools. */
  get(handler: string): LocalFunction;
  /** What each function's environment is, by handler folder. */
  readonly environments: ReadonlyMap<string, Readonly<Record<string, string>>>;
  stop(): Promise<void>;
}

/**
 * The platform's functions in local mode, made from the same deployments as the deployed ones
 * (`API_OPERATIONS`, `BACKGROUND_FUNCTIONS`): each gets exactly the environment of its synthesized
 * Lambda function (`localEnvironment`) plus what Lambda's runtime gives every function (region,
 * its role's credentials) and local mode's endpoints, and its own sandbox, and is invoked by what
 * its trigger names, as its role. Custom resources run only in a deployment.
 */
export function localFunctions(options: {
  readonly settings: PlatformSettings;
  /** What every function's environment holds besides its own variables and credentials: region, endpoints. */
  readonly runtime: Readonly<Record<string, string>>;
  /** The synthesized functions, their roles and the checks of local IAM. */
  readonly iam: LocalIam;
  /** The SQS stand-in, where triggers poll and dead-letter queues are. */
  readonly sqsEndpoint: string;
  readonly queueUrl: (queueName: string) => string;
  /** The Batch queue that each kind names in triggers. */
  readonly jobQueues: Readonly<Record<JobQueueKind, string>>;
  /** How EventBridge delivers Batch's events: at least once, in no guaranteed order. */
  readonly events: Delivery;
}): LocalFunctions {
  const { settings, runtime, iam } = options;
  const credentials = new Map<string, LocalCredentials>();
  const deployedAs = (handler: string) => {
    const fn = iam.access.functions.get(handler);
    if (!fn) throw new Error(`no synthesized function for ${handler}`);
    return fn;
  };
  const sqsClients = new Map<string, SQSClient>();
  const sqsAs = (holder: LocalCredentials) => {
    let client = sqsClients.get(holder.accessKeyId);
    if (!client) {
      client = new SQSClient({
        region: runtime.AWS_REGION,
        credentials: holder,
        endpoint: options.sqsEndpoint,
      });
      sqsClients.set(holder.accessKeyId, client);
    }
    return client;
  };
  const queueUrlOf = (arn: string) => options.queueUrl(arn.slice(arn.lastIndexOf(':') + 1));
  const send: SendAs = async (holder, queueArn, body, attributes) => {
    await sqsAs(holder).send(
      new SendMessageCommand({
        QueueUrl: queueUrlOf(queueArn),
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  };
  const deployments: readonly (ApiOperation | BackgroundFunction)[] = [
    ...API_OPERATIONS,
    ...BACKGROUND_FUNCTIONS.filter((d) => d.trigger.kind !== 'customResource'),
  ];
  const functions = new Map<string, LocalFunction>();
  const environments = new Map<string, Record<string, string>>();
  for (const deployment of deployments) {
    const deployed = deployedAs(deployment.handler);
    const own = iam.credentials.forRole(deployed.roleArn, deployed.name);
    credentials.set(deployment.handler, own);
    const environment = {
      ...runtime,
      ...localEnvironment(deployed.environment, settings),
      AWS_ACCESS_KEY_ID: own.accessKeyId,
      AWS_SECRET_ACCESS_KEY: own.secretAccessKey,
    };
    environments.set(deployment.handler, environment);
    functions.set(
      deployment.handler,
      new LocalFunction({
        handler: deployment.handler,
        environment,
        timeoutSeconds: timeoutOf(deployment, settings),
        setUp: [
          ...(deployment.permissions.activatesVersions ? [LOCAL_IMAGE_CHECK] : []),
          ...(deployment.handler.startsWith('builds/') || deployment.permissions.managesBuildImages?.length
            ? [LOCAL_BUILD_HOOKS]
            : []),
        ],
        missingModules: 'externalModules' in deployment ? deployment.externalModules : [],
        // Each invocation, and each batch an event source hands over at once, runs in an execution
        // environment of its own.
        maxSandboxes: sandboxesOf(deployment),
        // Background work runs outside the process that answers requests, as it does on AWS.
        isolation: 'operationId' in deployment ? 'thread' : 'process',
        tmpVariables: CONVERSION_SCRATCH.variableNames.filter((name) => name in environment),
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
  const fromRule = (handler: string, event: unknown) =>
    deliverThroughRule(
      {
        handler,
        fn: deployedAs(handler),
        credentials: credentials.get(handler)!,
        invoke: (e) => get(handler).invoke(e),
      },
      event,
      iam,
      send,
    );
  const random = seededRandom(options.events.seed);
  const deliveries = new Set<Promise<void>>();
  const later = (delivery: () => Promise<void>) => {
    const delayed: Promise<void> = new Promise((resolve) =>
      setTimeout(resolve, Math.floor(random.next() * EVENT_REORDER_MS)),
    )
      .then(delivery)
      .finally(() => deliveries.delete(delayed));
    deliveries.add(delayed);
  };
  // EventBridge delivers at least once, and an event may overtake one sent before it.
  const deliverToEach = async (targets: readonly BackgroundFunction[], event: unknown) => {
    for (const target of targets) {
      // Lambda's retries and dead-letter queue are the rule delivery's: it never throws.
      const deliver = () => fromRule(target.handler, event);
      if (random.chance(options.events.duplicateRate)) later(deliver);
      if (random.chance(options.events.reorderRate)) later(deliver);
      else await deliver();
    }
  };
  const pipelineTarget = background.find(({ trigger }) => trigger.kind === 'buildPipelineAction');
  const stopTriggers = async () => {
    await Promise.all(running.splice(0).map((service) => service.stop()));
    while (deliveries.size > 0) await Promise.all(deliveries);
  };

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
      const event: BatchJobStateChange = {
        source: 'aws.batch',
        'detail-type': 'Batch Job State Change',
        detail,
      };
      await deliverToEach(targets, event);
    },
    async deliverBuildEvent(detail) {
      const targets = background.filter(({ trigger }) => trigger.kind === 'buildStateChange');
      await deliverToEach(targets, {
        source: 'aws.codebuild',
        'detail-type': 'CodeBuild Build State Change',
        detail,
      });
    },
    ...(pipelineTarget && {
      pipelineAction: {
        functionName: deployedAs(pipelineTarget.handler).name,
        invoke: (event: unknown) => get(pipelineTarget.handler).invoke(event),
      },
    }),
    startTriggers() {
      for (const deployment of background) {
        const { trigger } = deployment;
        const fn = get.bind(undefined, deployment.handler);
        if (trigger.kind === 'queue') {
          // Lambda's event source polls the queue with the function's own role.
          const source = {
            queueUrl: queueUrlOf(iam.access.queueArns[trigger.queue]),
            batchSize: trigger.batchSize,
            reportBatchItemFailures: trigger.reportBatchItemFailures ?? false,
            concurrency: queueConcurrency(deployment),
            region: runtime.AWS_REGION,
          };
          const poller = sqsAs(credentials.get(deployment.handler)!);
          running.push(
            pollQueue(
              poller,
              source,
              (event, signal) => fn().invoke(event, { signal }),
              sqsAs(iam.credentials.operator),
            ),
          );
        } else if (trigger.kind === 'schedule') {
          const timer = setInterval(() => {
            void fromRule(deployment.handler, {
              source: 'aws.events',
              'detail-type': 'Scheduled Event',
              detail: {},
            });
          }, trigger.everyMinutes * 60_000);
          timer.unref();
          running.push({ env: {}, stop: async () => clearInterval(timer) });
        }
      }
    },
    stopTriggers,
    async stop() {
      await stopTriggers();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      for (const client of sqsClients.values()) client.destroy();
    },
  };
}

/** Batches a queue-triggered function runs at once: its event source's maximum, capped locally. */
function queueConcurrency(deployment: HandlerDeployment): number {
  const trigger = 'trigger' in deployment ? (deployment as BackgroundFunction).trigger : undefined;
  if (trigger?.kind !== 'queue') return 1;
  return Math.min(trigger.maxConcurrency ?? LOCAL_QUEUE_CONCURRENCY, LOCAL_QUEUE_CONCURRENCY);
}

/** Sandboxes a function runs at once: its queue's concurrency, or a few for any other trigger. */
function sandboxesOf(deployment: HandlerDeployment): number {
  const trigger = 'trigger' in deployment ? (deployment as BackgroundFunction).trigger : undefined;
  return trigger?.kind === 'queue' ? queueConcurrency(deployment) : LOCAL_SANDBOXES;
}

function timeoutOf(deployment: HandlerDeployment, settings: PlatformSettings): number {
  if ('operationId' in deployment) return API_TIMEOUT_SECONDS;
  const { sizing } = deployment as BackgroundFunction;
  const resolved: FunctionSizing = typeof sizing === 'function' ? sizing(settings) : (sizing ?? {});
  return resolved.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}
