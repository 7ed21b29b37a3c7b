import { Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SettingValues } from '../../../lambda/contracts/settings';
import { VIEWER_FLEET_TAG, VIEWER_HOST, VIEWER_HOST_SETTINGS } from '../../../lambda/contracts/viewer-host';
import { PlatformConfig } from '../../../lib/config/platform-config';
import {
  acknowledge,
  acknowledgeHipaaAndNist,
  acknowledgeInlinePolicy,
  acknowledgeWildcard,
} from '../../../lib/core/acknowledgements';
import { nameUniqueToStack } from '../../../lib/core/stack-unique-name';
import { ViewerHostImage } from './deploy-image';
import { VIEWER_SUPERVISOR_SETTINGS } from './supervisor-settings';

/** The settings a host starts with, as the stack knows them. */
export type ViewerHostSettings = SettingValues<typeof VIEWER_HOST_SETTINGS.shape>;

/** The container that runs the host process on each instance. */
const HOST_CONTAINER = 'viewer-host';
/** Docker's API socket, through which the host starts a container per session. */
const DOCKER_SOCKET = '/var/run/docker.sock';
/** Where the boot script keeps each setting's value, one file per variable. */
const SETTINGS_DIR = '/etc/viewer-host/settings';
/** The root volume: the system, Docker's images (the viewer image once) and sessions' scratch. */
const ROOT_VOLUME_GIB = 40;
/** Time a new host gets to boot, install Docker, pull the image and answer before EC2 checks count. */
const HEALTH_CHECK_GRACE = Duration.minutes(5);
/** Time a launching host gets to become ready (first boot: Docker installed, the image pulled). */
const READY_TIMEOUT = Duration.minutes(15);

export interface ViewerHostsProps {
  readonly vpc: ec2.IVpc;
  /** The subnets hosts run in. */
  readonly subnets: ec2.SubnetSelection;
  /** Public subnets without NAT: each host gets a public IPv4 address for its egress. */
  readonly publicAddress: boolean;
  /** Admits the load balancer only; set by the stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly fleet: PlatformConfig['viewerFleet'];
  /** The platform's name, the value of the group's VIEWER_FLEET_TAG, by which the API finds it. */
  readonly fleetName: string;
  /** What each host starts with (its origin, the API, the public key, the session sizes). */
  readonly settings: ViewerHostSettings;
  /** Encrypts the hosts' log group. */
  readonly logEncryptionKey: kms.IKey;
  readonly logRetentionDays: number;
}

/**
 * The viewer hosts of one region: an Auto Scaling group of instances from a launch template
 * (current Amazon Linux 2023, IMDSv2 only with hop limit 1, encrypted volumes, no key pair,
 * Systems Manager for access) that each run the viewer image as the host container, which starts
 * one container per session through the Docker socket. A host enters service (or the warm pool
 * of stopped hosts, Docker and the image on disk) once it completes the `host-ready` lifecycle
 * hook, at every start. The group checks EC2 health only: a
 * full host answers 503 on the load balancer's health check, which takes it out of rotation
 * for new sessions; an ELB health check would replace it. Scale-in waits on the
 * `drain-sessions` lifecycle hook, which the host completes when its last session has ended.
 */
export class ViewerHosts extends Construct {
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The group's name, fixed before it exists, so the host role can name it without a cycle. */
  readonly autoScalingGroupName: string;
  readonly role: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly logGroup: logs.LogGroup;
  readonly image: ViewerHostImage;

  constructor(scope: Construct, id: string, props: ViewerHostsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { fleet } = props;
    this.autoScalingGroupName = nameUniqueToStack(this, 'viewer-hosts');
    this.image = new ViewerHostImage(this, 'Image');
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'A viewer host: pulls the viewer image, writes its logs and metrics, drains itself',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.grantHostRights(props.settings.metricNamespace);

    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...hostBootScript({
        image: this.image.asset.imageUri,
        registry: `${stack.account}.dkr.ecr.${stack.region}.${stack.urlSuffix}`,
        settings: props.settings,
        logGroup: this.logGroup.logGroupName,
        region: stack.region,
      }),
    );

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType(fleet.instanceType),
      role: this.role,
      securityGroup: props.securityGroup,
      userData,
      associatePublicIpAddress: props.publicAddress || undefined,
      httpEndpoint: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // Tokens die at the host: session containers, on a bridge one hop further, never get one.
      // The host container shares the host's network, so it still does.
      httpPutResponseHopLimit: 1,
      httpProtocolIpv6: false,
      // The host reads its group's name from its tags (aws:autoscaling:groupName).
      instanceMetadataTags: true,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(ROOT_VOLUME_GIB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      autoScalingGroupName: this.autoScalingGroupName,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate: this.launchTemplate,
      minCapacity: fleet.minHosts,
      maxCapacity: fleet.maxHosts,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: HEALTH_CHECK_GRACE }),
      defaultInstanceWarmup: Duration.minutes(3),
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    Tags.of(this.autoScalingGroup).add(VIEWER_FLEET_TAG, props.fleetName);
    // A host enters service, or the warm pool, only once it is ready: the load balancer never
    // sends a reader to a host still installing Docker, and no host is stopped half-prepared.
    this.autoScalingGroup.addLifecycleHook('HostReady', {
      lifecycleHookName: VIEWER_HOST.launchHookName,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      heartbeatTimeout: READY_TIMEOUT,
      // A host that never became ready is terminated and replaced, not served.
      defaultResult: autoscaling.DefaultResult.ABANDON,
    });
    if (fleet.stoppedHosts > 0) {
      // Equal minimum and maximum: exactly `stoppedHosts` wait stopped, however many run.
      this.autoScalingGroup.addWarmPool({
        minSize: fleet.stoppedHosts,
        maxGroupPreparedCapacity: fleet.stoppedHosts,
        poolState: autoscaling.PoolState.STOPPED,
        // Scale-in terminates (after draining): a host that held sessions starts clean.
        reuseOnScaleIn: false,
      });
    }
    this.autoScalingGroup.addLifecycleHook('DrainSessions', {
      lifecycleHookName: VIEWER_HOST.lifecycleHookName,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: Duration.seconds(fleet.drainHeartbeatSeconds),
      // A host that stopped reporting has died: its termination goes on.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
    });
    acknowledgeHipaaAndNist(
      this.autoScalingGroup,
      'AutoScalingGroupELBHealthCheckRequired',
      'The load balancer health check answers 503 on a host that is full or draining, to send new sessions elsewhere; as an Auto Scaling health check it would replace full hosts and cut their sessions, so the group checks EC2 health.',
    );
    acknowledge(this.autoScalingGroup, {
      id: 'AwsSolutions-AS3',
      reason:
        'The group scales on the free session slots that its hosts publish; the dashboard and the alarms of the viewer stack watch scaling, and Auto Scaling activities are in CloudTrail.',
    });
  }

  /**
   * What a host may do, and nothing more: pull the viewer image, write to its log group, publish
   * metrics in the viewer namespace, record heartbeats, complete its lifecycle action and set its
   * own scale-in protection in its own group. No right on the platform's buckets, tables or keys.
   */
  private grantHostRights(metricNamespace: string): void {
    const { partition, region, account } = Stack.of(this);
    this.image.asset.repository.grantPull(this.role);
    this.logGroup.grantWrite(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': metricNamespace } },
      }),
    );
    // A group's ARN holds an id that AWS assigns when it creates the group: only the name is known.
    const groupArn = `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${this.autoScalingGroupName}`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'autoscaling:CompleteLifecycleAction',
          'autoscaling:RecordLifecycleActionHeartbeat',
          'autoscaling:SetInstanceProtection',
        ],
        resources: [groupArn],
      }),
    );
    acknowledgeWildcard(
      this.role,
      groupArn,
      "An Auto Scaling group's ARN carries an id that AWS assigns at creation; the wildcard stands for that id alone, and the name is this group's.",
    );
    acknowledgeInlinePolicy(this.role);
    acknowledge(
      this.role,
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'The AWS-managed policy of Systems Manager agents: operators reach hosts through Session Manager instead of SSH, and the policy follows the agent as AWS changes it.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:PutMetricData and ecr:GetAuthorizationToken support no resource-level permissions (Service Authorization Reference); metrics are limited to the viewer namespace by the cloudwatch:namespace condition.',
      },
    );
  }
}

export interface HostBootScriptProps {
  /** The viewer image, in this region's ECR. */
  readonly image: string;
  /** The region's ECR registry, which the image is in. */
  readonly registry: string;
  readonly settings: ViewerHostSettings;
  /** The hosts' log group, where the host container's output goes. */
  readonly logGroup: string;
  readonly region: string;
}

/**
 * The first boot of a host, as shell lines: Docker installed and enabled, the region's ECR
 * logged into, the viewer image pulled, each setting written to a file of its own (a value may
 * span lines, as the public key does), and the host container started.
 */
export function hostBootScript(props: HostBootScriptProps): string[] {
  const variables = {
    ...VIEWER_HOST_SETTINGS.variables(props.settings),
    ...VIEWER_SUPERVISOR_SETTINGS.variables({
      containerEngineSocket: DOCKER_SOCKET,
      // Sessions run from the host's own image, which the boot pulled: the host pulls nothing.
      sessionImage: props.image,
      // One viewer started ahead: a new session starts in about a second instead of three.
      warmSessionViewers: 1,
      // A reader whose page closed for five minutes has left: the session's container ends.
      sessionIdleSeconds: 300,
    }),
  };
  return [
    'set -euo pipefail',
    'dnf install -y docker',
    'systemctl enable --now docker',
    `aws ecr get-login-password --region ${props.region} | docker login --username AWS --password-stdin ${props.registry}`,
    `docker pull ${props.image}`,
    `mkdir -p ${SETTINGS_DIR}`,
    ...Object.entries(variables).flatMap(([name, value]) => [
      `cat > ${SETTINGS_DIR}/${name} <<'VIEWER_HOST_SETTING'`,
      value,
      'VIEWER_HOST_SETTING',
    ]),
    hostRunCommand({
      image: props.image,
      variables: Object.keys(variables),
      logGroup: props.logGroup,
      region: props.region,
    }),
  ];
}

export interface HostRunCommandProps {
  readonly image: string;
  /** The names of the variables whose values the boot script wrote under SETTINGS_DIR. */
  readonly variables: readonly string[];
  readonly logGroup: string;
  readonly region: string;
}

/**
 * How the host container runs, in one place: on the host's network (the load balancer reaches
 * it on VIEWER_HOST.port; the metadata service, at hop limit 1, answers it), restarted by Docker
 * whenever it stops and at every boot, with the Docker socket and the socket's group, through
 * which it starts one container per session, its output in the hosts' log group.
 */
export function hostRunCommand(props: HostRunCommandProps): string {
  return [
    'docker run --detach',
    `--name ${HOST_CONTAINER}`,
    '--restart always',
    '--network host',
    `--volume ${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    `--group-add "$(stat -c %g ${DOCKER_SOCKET})"`,
    '--log-driver awslogs',
    `--log-opt awslogs-region=${props.region}`,
    `--log-opt awslogs-group=${props.logGroup}`,
    '--log-opt tag="{{.Name}}/$(cat /var/lib/cloud/data/instance-id)"',
    ...props.variables.map((name) => `--env ${name}="$(cat ${SETTINGS_DIR}/${name})"`),
    props.image,
  ].join(' \\\n  ');
}
