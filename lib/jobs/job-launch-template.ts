import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { jobInstanceUserData } from './instance-metadata-guard';

export interface JobLaunchTemplateProps {
  /** Size of the root volume, which holds algorithm images and the inputs and outputs of jobs. */
  readonly volumeGiB: number;
}

/**
 * How Batch starts a job instance: instance metadata only with IMDSv2 tokens that go no further
 * than the host (hop limit 1), no IPv6 metadata endpoint, the boot script that keeps containers
 * away from the metadata address, termination on shutdown, and an encrypted gp3 root volume.
 * Batch sets the image, the instance type, the security groups and the instance profile itself.
 */
export class JobLaunchTemplate extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;

  constructor(scope: Construct, id: string, props: JobLaunchTemplateProps) {
    super(scope, id);
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      httpEndpoint: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // A token's response dies at the host: a bridged container, one hop further, never gets one.
      httpPutResponseHopLimit: 1,
      httpProtocolIpv6: false,
      instanceMetadataTags: false,
      userData: jobInstanceUserData(),
      // The boot hook shuts an instance down when its guard fails; it must not linger stopped.
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
      blockDevices: [
        {
          // The root device of the ECS-optimized Amazon Linux 2023 images; Docker keeps its images and volumes there.
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(props.volumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }

  /** The version compute environments pin: it changes with every edit of the template. */
  get latestVersionNumber(): string {
    return this.launchTemplate.latestVersionNumber;
  }
}
