import { App, Tags } from 'aws-cdk-lib';
import { ApiStack } from './stacks/api-stack';
import { ComputeStack } from './stacks/compute-stack';
import { PlatformConfig } from './config/platform-config';
import { DataStack } from './stacks/data-stack';

export interface Platform {
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly compute: ComputeStack;
}

/**
 * Adds every stack of the platform to the app, each in its configured region.
 * @param defaultAccount account of the deploying credentials, when known
 */
export function buildPlatform(app: App, config: PlatformConfig, defaultAccount?: string): Platform {
  const account = config.account ?? defaultAccount;
  const home = { account, region: config.homeRegion };
  for (const [key, value] of Object.entries(config.tags)) {
    Tags.of(app).add(key, value);
  }
  const data = new DataStack(app, `${config.name}-Data`, {
    env: home,
    description: 'Imaging platform: KMS key, imaging bucket, CloudFront distribution with signed URLs',
    config,
  });
  const api = new ApiStack(app, `${config.name}-Api`, {
    env: home,
    description: 'Imaging platform: Cognito user pool, REST API with Lambda handlers, DynamoDB tables, WAF',
    config,
    imagingBucket: data.imagingBucket.bucket,
    platformKey: data.platformKey.key,
    imagingDistribution: data.imagingDistribution,
  });
  const compute = new ComputeStack(app, `${config.name}-Compute`, {
    env: home,
    description:
      'Imaging platform: isolated VPC with endpoints, the converter container on AWS Batch with Fargate',
    config,
    imagingBucket: data.imagingBucket.bucket,
    platformKey: data.platformKey.key,
    tables: api.tables,
  });
  return { data, api, compute };
}
