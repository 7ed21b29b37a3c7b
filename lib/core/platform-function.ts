import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { handlerEntry } from './handler-folder';

/** The folder of package-lock.json, which bundling mounts as its input folder. */
const PROJECT_DIR = path.join(__dirname, '..', '..');

export interface PlatformFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'architecture' | 'bundling' | 'logGroup' | 'tracing'
> {
  /** Folder under `lambda/` holding the handler's `index.ts`, named after the construct that deploys it. */
  readonly handlerName: string;
  /** Days that the function's logs are kept. */
  readonly logRetentionDays: number;
  /** Key that encrypts the function's log group. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Packages left out of the bundle, such as native libraries the function does without.
   * @default - none: everything is bundled
   */
  readonly externalModules?: string[];
  /**
   * Files inside the project copied beside the bundled handler, which loads them from its own
   * folder at run time (WebAssembly modules), as absolute paths.
   * @default - none
   */
  readonly bundledFiles?: string[];
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

/**
 * Every Lambda handler of the platform: Node.js 24 on arm64, bundled and minified by the local
 * esbuild with source maps, JSON logs in an encrypted log group with retention, X-Ray tracing.
 */
export class PlatformFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const {
      handlerName,
      logRetentionDays,
      logEncryptionKey,
      environment,
      externalModules,
      bundledFiles = [],
      ...functionProps
    } = props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetentionDays as logs.RetentionDays,
      encryptionKey: logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, writing only to its own log group, instead of AWSLambdaBasicExecutionRole's logs:* on every group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${handlerName} handler`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(30),
      ...functionProps,
      entry: handlerEntry(handlerName),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: handlerName,
        ...environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.CJS,
        // Bundle the AWS SDK too: pinned versions, and tree-shaking keeps cold starts small.
        externalModules: externalModules ?? [],
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

    const inlinePolicy =
      'The policy is attached to this one role and holds only the grants of this one handler; a customer-managed policy would carry the same statements.';
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only xray:PutTraceSegments and xray:PutTelemetryRecords use Resource *: X-Ray supports no resource-level permissions for them (Service Authorization Reference).',
      },
      { id: 'HIPAA.Security-IAMNoInlinePolicy', reason: inlinePolicy },
      { id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: inlinePolicy },
    );
  }
}
