import { Duration } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config/platform-config';
import { JobLaunchTemplate } from './job-launch-template';

export type PurchaseOption = PlatformConfig['compute']['purchaseOption'];

export interface ScalingJobQueueProps {
  readonly jobQueueName: string;
  /** Instance types (`g4dn.xlarge`) or whole families (`c6i`) that Batch may start. */
  readonly instanceTypes: readonly string[];
  /** The Batch image type: an NVIDIA one for GPU instances. */
  readonly imageType: batch.EcsMachineImageType;
  /** vCPU ceiling of each compute environment. */
  readonly maxVcpus: number;
  /** Spot, on-demand, or both with spot first. */
  readonly purchaseOption: PurchaseOption;
  /** Longest a running job may need to finish when Batch replaces instances. */
  readonly longestJob: Duration;
  /** How long a job may wait for EC2 capacity before it is cancelled. */
  readonly capacityWait: Duration;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly launchTemplate: JobLaunchTemplate;
  readonly instanceRole: iam.IRole;
}

/**
 * Batch reasons that a job can never leave RUNNABLE: it asks for more than any allowed instance
 * offers, or more than the environment's vCPU ceiling.
 */
const UNPLACEABLE_REASONS = [
  batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
  batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
];

/**
 * A job queue whose compute environments run no instance while the queue is empty (minimum 0
 * vCPUs): spot (price-capacity-optimized) first, then on-demand, or only one of them. Batch turns
 * to the second environment once the first is at its vCPU ceiling; it does not wait out a spot
 * shortage there, so the order saves money without guaranteeing capacity.
 */
export class ScalingJobQueue extends Construct {
  readonly jobQueue: batch.JobQueue;
  readonly computeEnvironments: batch.ManagedEc2EcsComputeEnvironment[];

  constructor(scope: Construct, id: string, props: ScalingJobQueueProps) {
    super(scope, id);
    const purchases: ('spot' | 'on-demand')[] =
      props.purchaseOption === 'both' ? ['spot', 'on-demand'] : [props.purchaseOption];
    this.computeEnvironments = purchases.map((purchase) => this.createComputeEnvironment(purchase, props));
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      jobQueueName: props.jobQueueName,
      computeEnvironments: this.computeEnvironments.map((computeEnvironment, index) => ({
        computeEnvironment,
        order: index + 1,
      })),
      // A job that no instance can hold, or that waited too long for EC2 capacity, is cancelled,
      // so its state handler ends it with the reason and frees its slots.
      jobStateTimeLimitActions: [
        ...UNPLACEABLE_REASONS.map((reason) => ({
          reason,
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
          maxTime: Duration.minutes(10),
        })),
        {
          reason: batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
          maxTime: props.capacityWait,
        },
      ],
    });
  }

  private createComputeEnvironment(
    purchase: 'spot' | 'on-demand',
    props: ScalingJobQueueProps,
  ): batch.ManagedEc2EcsComputeEnvironment {
    const spot = purchase === 'spot';
    const environment = new batch.ManagedEc2EcsComputeEnvironment(this, spot ? 'Spot' : 'OnDemand', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      // Batch takes sizes and whole families in one list; the construct wants them apart.
      instanceTypes: props.instanceTypes.filter(isSize).map((type) => new ec2.InstanceType(type)),
      instanceClasses: props.instanceTypes
        .filter((type) => !isSize(type))
        .map((type) => type as ec2.InstanceClass),
      // Otherwise Batch adds its "optimal" families (C4, M4, R4: no GPU) to the configured ones.
      useOptimalInstanceClasses: false,
      images: [{ imageType: props.imageType }],
      minvCpus: 0,
      maxvCpus: props.maxVcpus,
      spot,
      allocationStrategy: spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      instanceRole: props.instanceRole,
      launchTemplate: props.launchTemplate.launchTemplate,
      // Updated in place, so Batch replaces instances, letting running jobs finish first.
      replaceComputeEnvironment: false,
      terminateOnUpdate: false,
      updateTimeout: props.longestJob,
    });
    // The construct names the launch template without a version, which Batch reads as $Default
    // once, at creation: an edited template would never reach the instances. The latest version
    // number changes with every edit, so each edit updates the environment.
    (environment.node.defaultChild as batch.CfnComputeEnvironment).addPropertyOverride(
      'ComputeResources.LaunchTemplate.Version',
      props.launchTemplate.latestVersionNumber,
    );
    return environment;
  }
}

/** `g4dn.xlarge` is a size; `c6i` is a whole family. */
function isSize(instanceType: string): boolean {
  return instanceType.includes('.');
}
