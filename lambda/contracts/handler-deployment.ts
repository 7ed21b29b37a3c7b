import type { JsonSchema } from './schema-primitives';
import type { PlatformSettings } from './handler-environment';
import { HandlerPermissions } from './permissions';
import { SettingsGroup } from './settings';

/**
 * How a handler is deployed, written beside its entry (`operation.ts` for an API operation,
 * `function.ts` for any other function): what it may touch and the configuration it reads. The
 * constructs that deploy it and local mode both read this, so their wiring cannot drift apart.
 */
export interface HandlerDeployment {
  /** The folder under `lambda/` that holds the handler's `index.ts`: `uploads/create-upload`. */
  readonly handler: string;
  readonly permissions: HandlerPermissions;
  /**
   * Configuration it reads besides what its permissions name (those come with the permission).
   * @default - none
   */
  readonly settings?: readonly SettingsGroup[];
}

/** A schema of the OpenAPI document, by its name there. */
export interface SchemaRef {
  readonly name: string;
  readonly schema: JsonSchema;
}

/** The named schema `name` of a capability's schemas. */
export function schemaRef<S extends Readonly<Record<string, JsonSchema>>>(
  schemas: S,
  name: keyof S & string,
): SchemaRef {
  return { name, schema: schemas[name] };
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * A query string or header parameter of an operation. API Gateway checks only that a required
 * one is there and not blank; the handler checks every value against `schema`'s rules.
 */
export interface ApiParameter {
  readonly name: string;
  readonly in: 'query' | 'header';
  readonly description: string;
  /** What a value may be, for the document (query values arrive as text). */
  readonly schema: JsonSchema;
  /** @default false */
  readonly required?: boolean;
}

/** An operation of the REST API: its route, schemas, and the handler that answers it. */
export interface ApiOperation extends HandlerDeployment {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** Path template under the stage: `/v1/uploads/{uploadId}`; every parameter is a UUID. */
  readonly path: string;
  readonly summary: string;
  /**
   * Public operations need no token; every other one has the Cognito authorizer.
   * @default false
   */
  readonly public?: boolean;
  /**
   * Why a public operation needs no token, for its cdk-nag acknowledgement.
   * @default - it reveals no user data and must answer before a caller has signed in
   */
  readonly publicReason?: string;
  /**
   * Query string and header parameters it reads, as the OpenAPI document declares them.
   * @default - none
   */
  readonly parameters?: readonly ApiParameter[];
  /**
   * The body's schema; API Gateway and the handler both check bodies against it.
   * @default - no body
   */
  readonly requestSchema?: SchemaRef;
  /** Status code to the schema of its body; the API's errors are added to every operation that is not public. */
  readonly responses: Readonly<Record<number, SchemaRef>>;
}

/**
 * The operation that `handler` (a folder under `lambda/`) answers at `route`
 * (`'GET /v1/jobs/{jobId}'`); its operationId is the folder's name in camel case (`getJob`).
 */
export function apiOperation(
  handler: string,
  route: `${HttpMethod} /${string}`,
  details: Omit<ApiOperation, 'handler' | 'operationId' | 'method' | 'path'>,
): ApiOperation {
  const [method, path] = route.split(' ') as [HttpMethod, string];
  const operationId = handler
    .slice(handler.lastIndexOf('/') + 1)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { ...details, handler, operationId, method, path };
}

/** Batch queues whose job state changes a function follows. */
export type JobQueueKind = 'gpu' | 'cpu' | 'converter';

/** What invokes a function that is not an API operation. */
export type Trigger =
  /** EventBridge, on a schedule. */
  | { readonly kind: 'schedule'; readonly everyMinutes: number }
  /** EventBridge, on `Batch Job State Change` events of these queues (and statuses). */
  | {
      readonly kind: 'batchJobStateChange';
      readonly queues: readonly JobQueueKind[];
      /** @default - every status */
      readonly statuses?: readonly string[];
    }
  /** An SQS event source on one of the platform's queues. */
  | {
      readonly kind: 'queue';
      readonly queue: 'conversion' | 'conversionDeadLetters' | 'builds';
      readonly batchSize: number;
      /** Report failed messages one by one, so the others of a batch are not retried. */
      readonly reportBatchItemFailures?: boolean;
      /** @default - as many as Lambda runs */
      readonly maxConcurrency?: number;
    }
  /** EventBridge, on CodeBuild's `Build State Change` events of the build project. */
  | { readonly kind: 'buildStateChange' }
  /** The build pipeline's Lambda invoke action (`BUILD_PIPELINE.registerAction`). */
  | { readonly kind: 'buildPipelineAction' }
  /** CloudFormation, for a custom resource of this type; its construct creates the resource. */
  | { readonly kind: 'customResource'; readonly resourceType: string };

/** What a function is given to run, when the defaults do not fit. */
export interface FunctionSizing {
  readonly memoryMiB?: number;
  readonly ephemeralStorageMiB?: number;
  readonly timeoutSeconds?: number;
}

/** A function that is not an API operation: invoked by its trigger. */
export interface BackgroundFunction extends HandlerDeployment {
  readonly description: string;
  readonly trigger: Trigger;
  /**
   * Memory, storage and time, by default 256 MiB, 512 MiB and a minute; a function of the
   * platform's settings where they depend on the configuration.
   * @default - the defaults
   */
  readonly sizing?: FunctionSizing | ((settings: PlatformSettings) => FunctionSizing);
  /**
   * Packages left out of the bundle, such as native libraries it does without.
   * @default - none
   */
  readonly externalModules?: readonly string[];
  /**
   * Files shipped beside the bundle, which the handler loads from its own folder (WebAssembly),
   * as module specifiers that `require.resolve` finds.
   * @default - none
   */
  readonly bundledModuleFiles?: readonly string[];
}

/** A container the platform runs (not an algorithm's): what it may touch and reads, as for a handler. */
export interface ContainerDeployment {
  /** The folder under `containers/` with its sources: `images/converter`. */
  readonly container: string;
  readonly permissions: HandlerPermissions;
  /** @default - none */
  readonly settings?: readonly SettingsGroup[];
}
