import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { FunctionSizing } from '../../lambda/contracts/handler-deployment';
import { acknowledge, acknowledgeInlinePolicy, acknowledgeHipaaAndNist, REASONS } from './acknowledgements';

/** The project's root: handlers live in `lambda/`, and bundling mounts this folder as its input. */
const PROJECT_DIR = path.join(__dirname, '..', '..');

/** How a function is invoked, which decides what becomes of its failures. */
export type InvokedBy = 'api' | 'events' | 'queue' | 'cloudformation';

export interface PlatformFunctionProps {
  /** The folder under `lambda/` that holds the handler's `index.ts`: `uploads/create-upload`. */
  readonly handler: string;
  readonly description: string;
  readonly invokedBy: InvokedBy;
  /** Its environment, from its deployment (`environmentVariables`). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Memory, storage and time.
   * @default - 256 MiB, 512 MiB and 30 seconds
   */
  readonly sizing?: FunctionSizing;
  /** Whether its invocations are traced in X-Ray (and it may write traces). */
  readonly tracing: boolean;
  /** Days that the function's logs are kept. */
  readonly logRetentionDays: number;
  /** Key that encrypts the function's log group. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Receives the events of asynchronous invocations that failed every retry.
   * @default - none
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Packages left out of the bundle, such as native libraries the function does without.
   * @default - none: everything is bundled
   */
  readonly externalModules?: readonly string[];
  /**
   * Files inside the project copied beside the bundled handler, which loads them from its own
   * folder at run time (WebAssembly modules), as absolute paths.
   * @default - none
   */
  readonly bundledFiles?: readonly string[];
}

/**
 * The commands that copy files of the project beside a bundle, by their paths relative to the
 * bundling input folder, so the copy works wherever bundling runs.
 */
export function copyBesideBundle(files: readonly string[], inputDir: string, outputDir: string): string[] {
  return files.map((file) => {
    const source = path.posix.join(inputDir, ...path.relative(PROJECT_DIR, file).split(path.sep));
    const target = path.posix.join(outputDir, path.basename(file));
    return `node -e "require('fs').copyFileSync(process.argv[1], process.argv[2])" "${source}" "${target}"`;
  });
}

/** Why a function of each kind has no dead-letter queue of its own, where it has none. */
const NO_DEAD_LETTER_QUEUE: Readonly<Record<InvokedBy, string | undefined>> = {
  api: REASONS.synchronousDeadLetters,
  queue: REASONS.queueDeadLetters,
  cloudformation: REASONS.customResourceDeadLetters,
  events: undefined,
};

/**
 * Every Lambda handler of the platform: Node.js 24 on arm64, bundled and minified by the local
 * esbuild with source maps, JSON logs in an encrypted log group with retention, X-Ray tracing,
 * and a role of its own that writes only to that group. The function, its role and its log group
 * are children of this construct; the function's id `Default` keeps its logical id that of the
 * construct itself.
 */
export class PlatformFunction extends Construct implements iam.IGrantable {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    const sizing = props.sizing ?? {};
    const serviceName = path.basename(props.handler);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, writing only to its own log group, instead of AWSLambdaBasicExecutionRole's logs:* on every group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${serviceName} handler`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.grantPrincipal = this.role;
    const bundledFiles = props.bundledFiles ?? [];
    this.function = new NodejsFunction(this, 'Default', {
      description: props.description.slice(0, 256),
      entry: path.join(PROJECT_DIR, 'lambda', props.handler, 'index.ts'),
      memorySize: sizing.memoryMiB ?? 256,
      ephemeralStorageSize: sizing.ephemeralStorageMiB
        ? Size.mebibytes(sizing.ephemeralStorageMiB)
        : undefined,
      timeout: Duration.seconds(sizing.timeoutSeconds ?? 30),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      role: this.role,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName,
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.CJS,
        // Bundle the AWS SDK too: pinned versions, and tree-shaking keeps cold starts small.
        externalModules: [...(props.externalModules ?? [])],
        forceDockerBundling: false,
        ...(bundledFiles.length > 0 && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) =>
              copyBesideBundle(bundledFiles, inputDir, outputDir),
          },
        }),
      },
    });

    // Lambda sends a failed asynchronous event to the dead-letter queue with this role; an
    // encrypted queue takes it only from a sender that may use its key through SQS.
    const deadLetterKey = props.deadLetterQueue?.encryptionMasterKey;
    if (deadLetterKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [deadLetterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    acknowledge(this.role, { id: 'AwsSolutions-IAM5[Resource::*]', reason: REASONS.xrayWildcard });
    acknowledgeInlinePolicy(this.role);
    acknowledgeHipaaAndNist(this.function, 'LambdaConcurrency', REASONS.concurrency);
    acknowledgeHipaaAndNist(this.function, 'LambdaInsideVPC', REASONS.noVpc);
    const noDeadLetters = props.deadLetterQueue ? undefined : NO_DEAD_LETTER_QUEUE[props.invokedBy];
    if (noDeadLetters) acknowledgeHipaaAndNist(this.function, 'LambdaDLQ', noDeadLetters);
  }
}
