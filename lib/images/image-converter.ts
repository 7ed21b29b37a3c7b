import { Duration, Size, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { CODEC_WASM_FILES } from '@imaging-platform/image-io';
import { CONVERSION_QUEUE } from '../../lambda/contracts/conversion-queue';
import { PlatformFunction } from '../core/platform-function';
import { ConversionQueue } from './conversion-queue';
import { CONVERSION_PERMISSIONS } from './conversion-permissions';
import { HandlerAccess } from '../core/handler-access';
import { JobAccess } from '../jobs/job-access';

export interface ImageConverterProps {
  readonly queue: ConversionQueue;
  readonly handlerAccess: HandlerAccess;
  readonly logEncryptionKey: kms.IKey;
  readonly logRetentionDays: number;
  /** The Batch resources, among them the converter container's queue that large sets go to. */
  readonly jobs: JobAccess;
  /**
   * Largest upload set the function converts itself: it gets 4 times this in memory (a file, its
   * volume and the written image at once) and this plus 512 MiB in /tmp, where the set is
   * downloaded. Larger sets, and sets holding pictures or slides, go to the converter container.
   */
  readonly lambdaMaxSetBytes: number;
  /**
   * Conversions that run at once, so that a burst of uploads cannot take the account's Lambda concurrency.
   * @default 10
   */
  readonly maxConcurrency?: number;
}

/**
 * Converts uploads into images: a Lambda function consumes the conversion queue one image set at
 * a time, converting small sets itself and submitting the others to the converter container's
 * Batch queue; a second function marks Failed every image whose message reaches the dead-letter
 * queue.
 */
export class ImageConverter extends Construct {
  readonly converter: PlatformFunction;
  readonly deadLetterHandler: PlatformFunction;

  constructor(scope: Construct, id: string, props: ImageConverterProps) {
    super(scope, id);
    const common = { logEncryptionKey: props.logEncryptionKey, logRetentionDays: props.logRetentionDays };
    const MiB = 1024 ** 2;
    const setMiB = Math.ceil(props.lambdaMaxSetBytes / MiB);
    this.converter = new PlatformFunction(this, 'Converter', {
      ...common,
      handlerName: 'convert-image',
      description: 'Converts the upload set of one image to .mha, or sends it to the converter container',
      memorySize: Math.min(10_240, Math.max(1024, 4 * setMiB)),
      ephemeralStorageSize: Size.mebibytes(Math.min(10_240, setMiB + 512)),
      environment: { LAMBDA_MAX_SET_BYTES: String(props.lambdaMaxSetBytes) },
      // libvips is native; pictures and slides go to the converter container, not this function.
      externalModules: ['sharp'],
      // The DICOM codecs' WebAssembly, which each codec loads from the bundle's folder.
      bundledFiles: CODEC_WASM_FILES.map((file) => require.resolve(file)),
      // SQS hides a message for the queue's visibility timeout; the function must end before it.
      timeout: Duration.seconds(CONVERSION_QUEUE.visibilityTimeoutSeconds - 60),
    });
    props.handlerAccess.apply(this.converter, CONVERSION_PERMISSIONS);
    props.jobs.grantSubmitConversion(this.converter);
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
      'The function calls only AWS service APIs (DynamoDB, S3, SQS, KMS, Batch) over TLS with IAM; it reaches no resource inside a VPC, and a VPC would add NAT or endpoint costs without a network boundary to keep.';
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
