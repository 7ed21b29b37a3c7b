import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { CONTAINER_VOLUME_DEVICE, containerVolumeScript } from './container-volume';
import { instanceMetadataGuardScript } from './instance-metadata-guard';

export interface JobLaunchTemplateProps {
  /** Size of the container volume, which holds algorithm images and the inputs, outputs and writable roots of jobs. */
  readonly volumeGiB: number;
  /** Bytes each job may write to its own root file system. */
  readonly writableRootBytes: number;
  /**
   * The log group a boot hook that fails tells before it shuts the instance down; the instance
   * role must be allowed to write to it.
   * @default - the boot hooks tell no one
   */
  readonly bootFailureLogGroupName?: string;
}

/** The root volume's size: the 30 GiB of the ECS-optimized Amazon Linux 2023 images, for the system alone. */
const ROOT_VOLUME_GIB = 30;

/**
 * How Batch starts a job instance: instance metadata only with IMDSv2 tokens that go no further
 * than the host (hop limit 1), no IPv6 metadata endpoint, the boot scripts that keep containers
 * away from the metadata address and bound each container's writable root (and, failing, tell
 * the boot failure log group), termination on shutdown, and encrypted gp3 volumes: the system's root, and one for Docker. Batch sets the
 * image, the instance type, the security groups and the instance profile itself.
 */
export class JobLaunchTemplate extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;

  constructor(scope: Construct, id: string, props: JobLaunchTemplateProps) {
    super(scope, id);
    const encryptedGp3 = (sizeGiB: number) =>
      ec2.BlockDeviceVolume.ebs(sizeGiB, {
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        encrypted: true,
        deleteOnTermination: true,
      });
    // Batch accepts only MIME multipart user data, which it merges with its own; a cloud-boothook
    // part runs at every boot, early (before Docker and the ECS agent), unlike a shell script part.
    const userData = new ec2.MultipartUserData();
    const report = props.bootFailureLogGroupName
      ? { logGroupName: props.bootFailureLogGroupName }
      : undefined;
    for (const script of [
      instanceMetadataGuardScript(report),
      containerVolumeScript({ writableRootBytes: props.writableRootBytes, bootFailures: report }),
    ]) {
      userData.addPart(
        ec2.MultipartBody.fromRawBody({ contentType: ec2.MultipartBody.CLOUD_BOOTHOOK, body: script }),
      );
    }
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      httpEndpoint: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // A token's response dies at the host: a bridged container, one hop further, never gets one.
      httpPutResponseHopLimit: 1,
      httpProtocolIpv6: false,
      instanceMetadataTags: false,
      userData,
      // The boot hooks shut an instance down when they fail; it must not linger stopped.
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
      blockDevices: [
        // The root device of the ECS-optimized Amazon Linux 2023 images.
        { deviceName: '/dev/xvda', volume: encryptedGp3(ROOT_VOLUME_GIB) },
        // Docker's data, with project quotas (container-volume.ts).
        { deviceName: CONTAINER_VOLUME_DEVICE, volume: encryptedGp3(props.volumeGiB) },
      ],
    });
  }

  /** The version compute environments pin: it changes with every edit of the template. */
  get latestVersionNumber(): string {
    return this.launchTemplate.latestVersionNumber;
  }
}
