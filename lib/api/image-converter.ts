import { Duration, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { IMAGES_PREFIX, UPLOADS_PREFIX } from '../../lambda/shared/bucket-layout';
import { CODEC_WASM_FILES } from '../../lambda/shared/conversion/wasm-codec';
import { CONVERSION_QUEUE } from '../../lambda/shared/queues';
import { PlatformFunction } from '../platform-function';
import { ConversionQueue } from './conversion-queue';
import { HandlerAccess } from './handler-access';

export interface ImageConverterProps {
  readonly queue: ConversionQueue;
  readonly handlerAccess: HandlerAccess;
  readonly logEncryptionKey: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * Memory of the converter, which holds an upload set and its output in memory.
   * @default 4096
   */
  readonly memoryMiB?: number;
  /**
   * Conversions that run at once, so that a burst of uploads cannot take the account's Lambda concurrency.
   * @default 10
   */
  readonly maxConcurrency?: number;
}

/**
 * Converts uploads into images: a Lambda function consumes the conversion queue one image set at
 * a time, and a second marks Failed every image whose message reaches the dead-letter queue.
 * Sets larger than the function's memory need the container version of the converter.
 */
export class ImageConverter extends Construct {
  readonly converter: PlatformFunction;
  readonly deadLetterHandler: PlatformFunction;

  constructor(scope: Construct, id: string, props: ImageConverterProps) {
    super(scope, id);
    const common = { logEncryptionKey: props.logEncryptionKey, logRetentionDays: props.logRetentionDays };
    this.converter = new PlatformFunction(this, 'Converter', {
      ...common,
      handlerName: 'convert-image',
      description: 'Converts the upload set of one image to .mha',
      memorySize: props.memoryMiB ?? 4096,
      // libvips is native; pictures and slides go to the converter container, not this function.
      externalModules: ['sharp'],
      // The DICOM codecs' WebAssembly, which each codec loads from the bundle's folder.
      bundledFiles: CODEC_WASM_FILES.map((file) => require.resolve(file)),
      // SQS hides a message for the queue's visibility timeout; the function must end before it.
      timeout: Duration.seconds(CONVERSION_QUEUE.visibilityTimeoutSeconds - 60),
    });
    props.handlerAccess.apply(this.converter, {
      tables: {
        images: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
        uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        usage: ['dynamodb:UpdateItem'],
      },
      imagingObjects: [
        { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject', 's3:PutObjectTagging', 's3:DeleteObject'] },
        { prefix: IMAGES_PREFIX, actions: ['s3:PutObject'] },
      ],
      objectEncryption: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
    this.converter.addEventSource(
      new SqsEventSource(props.queue.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 10,
      }),
    );

    this.deadLetterHandler = new PlatformFunction(this, 'DeadLetters', {
      ...common,
      handlerName: 'fail-unconverted-image',
      description: 'Marks Failed the images whose conversion failed on every try',
    });
    props.handlerAccess.apply(this.deadLetterHandler, { tables: { images: ['dynamodb:UpdateItem'] } });
    this.deadLetterHandler.addEventSource(new SqsEventSource(props.queue.deadLetterQueue, { batchSize: 10 }));

    const concurrency =
      'Its SQS event source caps how many run at once; reserving concurrency fails to deploy in new accounts whose concurrency quota is 10, below the 100 unreserved that Lambda keeps.';
    const deadLetters =
      'Invoked by an SQS event source: a failed message returns to its queue, whose redrive policy moves it to the dead-letter queue; a function dead-letter queue only receives asynchronous invocations.';
    const vpc =
      'The function calls only AWS service APIs (DynamoDB, S3, SQS, KMS) over TLS with IAM; it reaches no resource inside a VPC, and a VPC would add NAT or endpoint costs without a network boundary to keep.';
    for (const fn of [this.converter, this.deadLetterHandler]) {
      Validations.of(fn).acknowledge(
        ...['HIPAA.Security', 'NIST.800.53.R5'].flatMap((pack) => [
          { id: `${pack}-LambdaConcurrency`, reason: concurrency },
          { id: `${pack}-LambdaDLQ`, reason: deadLetters },
          { id: `${pack}-LambdaInsideVPC`, reason: vpc },
        ]),
      );
    }
  }
}
