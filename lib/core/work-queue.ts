import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, REASONS } from './acknowledgements';

export interface WorkQueueProps {
  /** Receives before a message moves to the dead-letter queue, and how long a receive hides it. */
  readonly settings: { readonly maxReceiveCount: number; readonly visibilityTimeoutSeconds: number };
  /** Encrypts the messages of both queues. */
  readonly encryptionKey: kms.IKey;
  /**
   * How long a message waits for its function before it expires.
   * @default Duration.days(7)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue of work waiting for a function (images to convert, builds to start), with a
 * dead-letter queue for messages that it failed on `maxReceiveCount` times. Settings come from
 * the queue's contract in `lambda/contracts/`, which local mode shares.
 */
export class WorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      // The longest SQS keeps a message: time to find out why its function failed on it.
      retentionPeriod: Duration.days(14),
      // It holds work: waiting to be done or to be looked at.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.settings.visibilityTimeoutSeconds),
      // Shorter than the dead-letter queue's, which counts from the first enqueue too.
      retentionPeriod: props.retentionPeriod ?? Duration.days(7),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.settings.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.deadLetterQueue, { id: 'AwsSolutions-SQS3', reason: REASONS.deadLetterQueue });
  }

  /** Lets a handler queue work: sqs:SendMessage on this queue, the key through SQS only. */
  grantSendMessages(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.queue.queueArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
