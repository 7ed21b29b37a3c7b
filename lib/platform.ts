import { App, Tags } from 'aws-cdk-lib';
import { ApiStack } from './stacks/api-stack';
import { ComputeStack } from './stacks/compute-stack';
import { PlatformConfig } from './config/platform-config';
import { DataStack } from './stacks/data-stack';
import { OperationsStack } from './stacks/operations-stack';
import { ViewerStack } from './stacks/viewer-stack';

export interface Platform {
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly compute: ComputeStack;
  readonly operations: OperationsStack;
  /** One viewer stack per viewer region, in the order of `viewerRegions`. */
  readonly viewers: ViewerStack[];
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
    description:
      'Imaging platform, stateful: KMS key, imaging bucket and its CloudFront distribution, tables, user pool, queues',
    config,
    eventRulesStackName: `${config.name}-Api`,
  });
  const compute = new ComputeStack(app, `${config.name}-Compute`, {
    env: home,
    description:
      'Imaging platform, stateless: isolated VPC with endpoints, the converter container and the job queues on AWS Batch',
    config,
    data,
  });
  const api = new ApiStack(app, `${config.name}-Api`, {
    env: home,
    description: 'Imaging platform, stateless: REST API with Lambda handlers, WAF, the converter function',
    config,
    data,
    compute,
  });
  const operations = new OperationsStack(app, `${config.name}-Operations`, {
    env: home,
    description:
      'Imaging platform, operations: alarms to an encrypted topic, the dashboard, the spend budget',
    config,
    data,
    compute,
    api,
  });
  const viewers = config.viewerRegions.map(
    (region) =>
      new ViewerStack(app, viewerStackName(config, region), {
        env: { account, region },
        description: `Imaging platform, viewer fleet in ${region}: network, load balancer with HTTPS, EC2 hosts running sessions, scaling, dashboard and alarms`,
        config,
        data,
        api,
      }),
  );
  return { data, api, compute, operations, viewers };
}

/** The stack of a viewer region: one per region, named for it. */
export function viewerStackName(config: PlatformConfig, region: string): string {
  return `${config.name}-Viewer-${region}`;
}
