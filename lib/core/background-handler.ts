import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function';
import { HandlerAccess } from './handler-access';
import { OperationPermissions } from './operation-permissions';

export interface BackgroundHandlerProps {
  /** Folder under `lambda/` with the handler. */
  readonly handlerName: string;
  readonly description: string;
  /** What invokes it: an event pattern or a schedule. */
  readonly trigger: { readonly eventPattern: events.EventPattern } | { readonly schedule: events.Schedule };
  /** What the handler may touch, in the terms of the API's operations. */
  readonly permissions: OperationPermissions;
  readonly handlerAccess: HandlerAccess;
  /** Receives events that still failed after EventBridge's retries. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logEncryptionKey: kms.IKey;
  readonly logRetentionDays: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
}

/**
 * A handler that EventBridge invokes asynchronously, on a rule or a schedule: retried, and kept in
 * a dead-letter queue when it keeps failing, so no event is lost unseen.
 */
export class BackgroundHandler extends Construct {
  readonly handler: PlatformFunction;

  constructor(scope: Construct, id: string, props: BackgroundHandlerProps) {
    super(scope, id);
    this.handler = new PlatformFunction(this, 'Handler', {
      handlerName: props.handlerName,
      description: props.description,
      timeout: props.timeout ?? Duration.minutes(1),
      deadLetterQueue: props.deadLetterQueue,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
    });
    props.handlerAccess.apply(this.handler, props.permissions);
    new events.Rule(this, 'Trigger', {
      ...('eventPattern' in props.trigger
        ? { eventPattern: props.trigger.eventPattern }
        : { schedule: props.trigger.schedule }),
      targets: [
        new targets.LambdaFunction(this.handler, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
    const concurrency =
      'EventBridge delivers at its own pace and retries; reserving concurrency fails to deploy in new accounts whose concurrency quota is 10, below the 100 unreserved that Lambda keeps.';
    const vpc =
      'The handler calls only AWS service APIs (DynamoDB, S3, KMS) over TLS with IAM; it reaches no resource inside a VPC, and a VPC would add NAT or endpoint costs without a network boundary to keep.';
    Validations.of(this.handler).acknowledge(
      ...['HIPAA.Security', 'NIST.800.53.R5'].flatMap((pack) => [
        { id: `${pack}-LambdaConcurrency`, reason: concurrency },
        { id: `${pack}-LambdaInsideVPC`, reason: vpc },
      ]),
    );
  }
}
