import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, REASONS } from '../core/acknowledgements';
import { CONVERSION_QUEUE } from '../../lambda/contracts/conversion-queue';

export interface ConversionQueueProps {
  /** Encrypts the messages of both queues. */
  readonly encryptionKey: kms.IKey;
  /**
   * How long a message waits for the converter before it expires.
   * @default Duration.days(7)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * The queue of images waiting for conversion, one message `{ imageId }` each, with a dead-letter
 * queue for messages that the converter failed on `CONVERSION_QUEUE.maxReceiveCount` times.
 * Settings come from `lambda/contracts/conversion-queue.ts`, which local mode shares.
 */
export class ConversionQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ConversionQueueProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      // The longest SQS keeps a message: time to find out why the converter failed on it.
      retentionPeriod: Duration.days(14),
      // It holds work: images waiting to be converted or to be looked at.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(CONVERSION_QUEUE.visibilityTimeoutSeconds),
      // Shorter than the dead-letter queue's, which counts from the first enqueue too.
      retentionPeriod: props.retentionPeriod ?? Duration.days(7),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: CONVERSION_QUEUE.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.deadLetterQueue, { id: 'AwsSolutions-SQS3', reason: REASONS.deadLetterQueue });
  }

  /** Lets a handler queue images: sqs:SendMessage on this queue, the key through SQS only. */
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
