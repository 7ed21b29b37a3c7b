import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BackgroundFunction, FunctionSizing, JobQueueKind } from '../../lambda/contracts/handler-deployment';
import { HandlerAccess } from './handler-access';
import { PlatformFunction } from './platform-function';

export interface TriggeredFunctionProps {
  /** The deployment written beside the handler (`function.ts`). */
  readonly deployment: BackgroundFunction;
  readonly access: HandlerAccess;
  /** The queues that `queue` triggers name. */
  readonly queues: {
    readonly conversion: sqs.IQueue;
    readonly conversionDeadLetters: sqs.IQueue;
    readonly builds: sqs.IQueue;
  };
  /** The CodeBuild project whose state changes `buildStateChange` triggers follow. */
  readonly buildProject: string;
  /** The Batch queues that `batchJobStateChange` triggers name, by ARN. */
  readonly jobQueueArns: Readonly<Record<JobQueueKind, string>>;
  /** Receives events that still failed after EventBridge's retries. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logEncryptionKey: kms.IKey;
  readonly logRetentionDays: number;
  /** Whether its invocations are traced in X-Ray. */
  readonly tracing: boolean;
}

/**
 * A function that its trigger invokes, as its deployment describes it: EventBridge rules (on a
 * schedule or on Batch's job state changes) invoke it asynchronously, retry, and keep an event
 * that keeps failing in a dead-letter queue, so none is lost unseen; an SQS event source leaves
 * failed messages to the queue's own redrive.
 */
export class TriggeredFunction extends Construct {
  readonly handler: PlatformFunction;

  constructor(scope: Construct, id: string, props: TriggeredFunctionProps) {
    super(scope, id);
    const { deployment, access } = props;
    const { trigger } = deployment;
    if (trigger.kind === 'customResource') {
      throw new Error(
        `${deployment.handler} backs a custom resource: the construct of that resource deploys it`,
      );
    }
    const sizing: FunctionSizing =
      typeof deployment.sizing === 'function'
        ? deployment.sizing(access.settings)
        : (deployment.sizing ?? {});
    this.handler = new PlatformFunction(this, 'Handler', {
      handler: deployment.handler,
      description: deployment.description,
      invokedBy: trigger.kind === 'queue' ? 'queue' : 'events',
      environment: access.environment(deployment),
      sizing: { timeoutSeconds: 60, ...sizing },
      externalModules: deployment.externalModules,
      bundledFiles: deployment.bundledModuleFiles?.map((file) => require.resolve(file)),
      deadLetterQueue: trigger.kind === 'queue' ? undefined : props.deadLetterQueue,
      tracing: props.tracing,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
    });
    access.grant(this.handler, deployment.permissions);

    if (trigger.kind === 'queue') {
      this.handler.function.addEventSource(
        new SqsEventSource(props.queues[trigger.queue], {
          batchSize: trigger.batchSize,
          reportBatchItemFailures: trigger.reportBatchItemFailures,
          maxConcurrency: trigger.maxConcurrency,
        }),
      );
      return;
    }
    // The pipeline's action invokes it; the pipeline's construct grants that.
    if (trigger.kind === 'buildPipelineAction') return;
    new events.Rule(this, 'Trigger', {
      ...(trigger.kind === 'schedule'
        ? { schedule: events.Schedule.rate(Duration.minutes(trigger.everyMinutes)) }
        : trigger.kind === 'buildStateChange'
          ? {
              eventPattern: {
                source: ['aws.codebuild'],
                detailType: ['CodeBuild Build State Change'],
                detail: { 'project-name': [props.buildProject] },
              },
            }
          : {
              eventPattern: {
                source: ['aws.batch'],
                detailType: ['Batch Job State Change'],
                detail: {
                  jobQueue: trigger.queues.map((queue) => props.jobQueueArns[queue]),
                  ...(trigger.statuses && { status: [...trigger.statuses] }),
                },
              },
            }),
      targets: [
        new targets.LambdaFunction(this.handler.function, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
  }
}
