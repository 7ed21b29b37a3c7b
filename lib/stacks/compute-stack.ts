import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ApiTables } from '../data/api-tables';
import { publishedValue } from '../core/published-value';
import { AlgorithmCompute } from '../jobs/algorithm-compute';
import { ImageConverterJobs } from '../../containers/images/converter/image-converter-jobs';
import { jobResourceNames } from '../jobs/job-resource-names';
import { PlatformConfig } from '../config/platform-config';
import { IsolatedNetwork } from '../network/isolated-network';

export interface ComputeStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The data stack's imaging bucket, which the converter reads and writes. */
  readonly imagingBucket: s3.IBucket;
  /** The data stack's key: encrypts the bucket, the tables and the logs. */
  readonly platformKey: kms.IKey;
  /** The api stack's tables, whose image, upload and usage items the converter updates. */
  readonly tables: ApiTables;
}

/**
 * Compute in the home region: the isolated network that platform containers run in, the
 * converter container on AWS Batch with Fargate for upload sets the converter function does
 * not take, and the GPU and CPU queues that run algorithm jobs. The api stack reaches the Batch
 * resources by name (`jobResourceNames`).
 */
export class ComputeStack extends Stack {
  readonly network: IsolatedNetwork;
  readonly imageConverter: ImageConverterJobs;
  readonly algorithms: AlgorithmCompute;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Named through the data stack's output for it (see publishedValue), as the api stack names it.
    const imagingBucket = s3.Bucket.fromBucketAttributes(this, 'ImagingBucket', {
      bucketName: publishedValue(props.imagingBucket, props.imagingBucket.bucketName),
      encryptionKey: props.platformKey,
    });
    this.addStackDependency(Stack.of(props.imagingBucket));

    this.network = new IsolatedNetwork(this, 'Network', {
      buckets: [imagingBucket],
      flowLogEncryptionKey: props.platformKey,
      flowLogRetentionDays: config.retention.logRetentionDays,
      gatewayEndpoints: { DynamoDb: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    });
    this.imageConverter = new ImageConverterJobs(this, 'ImageConverter', {
      network: this.network,
      names: jobResourceNames(config),
      sizing: config.conversion,
      tables: props.tables,
      imagingBucket,
      platformKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
    });
    this.algorithms = new AlgorithmCompute(this, 'Algorithms', {
      names: jobResourceNames(config),
      compute: config.compute,
      vpc: this.network.vpc,
      vpcSubnets: this.network.subnets,
      securityGroup: this.network.workloadSecurityGroup(this, 'JobInstances', 'algorithm job instances'),
      imagingBucket,
      platformKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
    });
  }
}
