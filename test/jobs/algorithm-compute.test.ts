import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as path from 'node:path';
import { JOB_RETRY_STRATEGY } from '../../lambda/jobs/job-retry-strategy';
import { publishedValue } from '../../lib/core/published-value';
import { AlgorithmCompute, LONGEST_JOB } from '../../lib/jobs/algorithm-compute';
import { CONTAINER_VOLUME_DEVICE, containerVolumeScript } from '../../lib/jobs/container-volume';
import { instanceMetadataGuardScript } from '../../lib/jobs/instance-metadata-guard';
import { jobResourceNames } from '../../lib/jobs/job-resource-names';
import { defaultPlatformConfig, PlatformConfig } from '../../lib/config/platform-config';
import { securityChecks } from '../../lib/core/security-checks';

const cdkJson = require(path.join(__dirname, '..', '..', 'cdk.json')) as { context: Record<string, unknown> };

/** Any part of the synthesized template, as CloudFormation JSON. */
type CfnJson = ReturnType<Template['toJSON']>[string];
type Resource = { Type: string; Properties: Record<string, CfnJson>; DeletionPolicy?: string };

/**
 * The construct as a compute stack would hold it: an isolated VPC of its own, the imaging bucket
 * and key of a data stack, the bucket read through the data stack's output.
 */
function buildCompute(compute: PlatformConfig['compute']) {
  const app = new App({ context: cdkJson.context });
  const env = { account: '123456789012', region: 'eu-central-1' };
  const data = new Stack(app, 'Data', { env });
  const platformKey = new kms.Key(data, 'PlatformKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(data, 'Imaging', { encryptionKey: platformKey });
  new CfnOutput(data, 'ImagingBucketName', { value: bucket.bucketName });

  const stack = new Stack(app, 'Compute', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'jobs', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const securityGroup = new ec2.SecurityGroup(stack, 'Jobs', { vpc, allowAllOutbound: false });
  const algorithms = new AlgorithmCompute(stack, 'Algorithms', {
    names: jobResourceNames(defaultPlatformConfig),
    compute,
    writableRootBytes: WRITABLE_ROOT_BYTES,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroup,
    imagingBucket: s3.Bucket.fromBucketAttributes(stack, 'ImagingBucket', {
      bucketName: publishedValue(bucket, bucket.bucketName),
    }),
    platformKey,
    logRetentionDays: 90,
    logGroupName: '/ImagingPlatform/jobs-test',
  });
  algorithms.grantImagePull(
    ecr.Repository.fromRepositoryName(stack, 'AlgorithmImages', 'imaging-algorithms'),
  );
  return { app, template: Template.fromStack(stack) };
}

/** Non-default values, so that each assertion shows the configuration reaching the template. */
const compute: PlatformConfig['compute'] = {
  ...defaultPlatformConfig.compute,
  gpuInstanceTypes: ['g4dn.xlarge', 'g4dn.4xlarge'],
  maxVcpus: 96,
  cpuInstanceTypes: ['c6i', 'm6i.2xlarge'],
  cpuMaxVcpus: 48,
  purchaseOption: 'both',
  instanceVolumeGiB: 250,
  capacityWaitMinutes: 45,
};
const WRITABLE_ROOT_BYTES = 12 * 1024 ** 3;
const names = jobResourceNames(defaultPlatformConfig);

describe('algorithm compute', () => {
  let app: App;
  let template: Template;
  let resources: Record<string, Resource>;

  const ofType = (type: string) =>
    Object.entries(resources).filter(([, resource]) => resource.Type === type) as [string, Resource][];
  const queueNamed = (name: string) =>
    ofType('AWS::Batch::JobQueue').find(([, queue]) => queue.Properties.JobQueueName === name)![1];
  /** The compute environments of a queue, in the queue's order. */
  const environmentsOf = (queueName: string) =>
    [...queueNamed(queueName).Properties.ComputeEnvironmentOrder]
      .sort((a, b) => a.Order - b.Order)
      .map((entry) => resources[entry.ComputeEnvironment['Fn::GetAtt'][0]].Properties.ComputeResources);
  const policyOf = (roleId: string) =>
    ofType('AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: CfnJson) => role.Ref === roleId))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
  const roleDescribed = (description: RegExp) =>
    ofType('AWS::IAM::Role').find(([, role]) => description.test(role.Properties.Description))!;
  /** The launch template's user data, with the boot failure log group's name as `<boot failure log group>`. */
  const userData = () => {
    const [, launchTemplate] = ofType('AWS::EC2::LaunchTemplate')[0];
    const [, parts] = launchTemplate.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'] as [
      string,
      (string | CfnJson)[],
    ];
    return parts.map((part) => (typeof part === 'string' ? part : '<boot failure log group>')).join('');
  };
  /** The log group of the jobs' lines, and the one of failed boot hooks. */
  const logGroup = (id: RegExp) => ofType('AWS::Logs::LogGroup').find(([logicalId]) => id.test(logicalId))!;

  beforeAll(() => {
    ({ app, template } = buildCompute(compute));
    resources = template.toJSON().Resources;
  });

  test('the GPU compute environments start only the configured g4dn types, from the AL2023 NVIDIA image', () => {
    const environments = environmentsOf(names.gpuJobQueue);
    expect(environments).toHaveLength(2);
    for (const environment of environments) {
      expect(environment.InstanceTypes).toEqual(['g4dn.xlarge', 'g4dn.4xlarge']);
      expect(environment.Ec2Configuration).toEqual([{ ImageType: 'ECS_AL2023_NVIDIA' }]);
      expect(environment.MaxvCpus).toBe(96);
    }
  });

  test('every compute environment scales to zero when its queue is empty', () => {
    const environments = ofType('AWS::Batch::ComputeEnvironment');
    expect(environments).toHaveLength(4);
    for (const [, environment] of environments) {
      expect(environment.Properties.ComputeResources.MinvCpus).toBe(0);
    }
  });

  test("Batch's optimal instance classes are off: only configured types, in every environment", () => {
    for (const [, environment] of ofType('AWS::Batch::ComputeEnvironment')) {
      const types: string[] = environment.Properties.ComputeResources.InstanceTypes;
      expect(types.some((type) => type.includes('optimal') || type.startsWith('default_'))).toBe(false);
      expect([...compute.gpuInstanceTypes, ...compute.cpuInstanceTypes]).toEqual(
        expect.arrayContaining(types),
      );
    }
  });

  test('the GPU queue places jobs on spot (price-capacity-optimized) first, then on-demand', () => {
    const [first, second] = environmentsOf(names.gpuJobQueue);
    expect(first).toMatchObject({ Type: 'SPOT', AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED' });
    expect(second).toMatchObject({ Type: 'EC2', AllocationStrategy: 'BEST_FIT_PROGRESSIVE' });
  });

  test('the CPU queue has its own environments on the configured CPU types, without NVIDIA images', () => {
    const gpuEnvironments = queueNamed(names.gpuJobQueue).Properties.ComputeEnvironmentOrder.map(
      (entry: CfnJson) => entry.ComputeEnvironment['Fn::GetAtt'][0],
    );
    const cpuOrder = queueNamed(names.cpuJobQueue).Properties.ComputeEnvironmentOrder;
    for (const entry of cpuOrder)
      expect(gpuEnvironments).not.toContain(entry.ComputeEnvironment['Fn::GetAtt'][0]);
    const environments = environmentsOf(names.cpuJobQueue);
    expect(environments.map((e) => e.Type)).toEqual(['SPOT', 'EC2']);
    for (const environment of environments) {
      expect(environment.InstanceTypes).toEqual(['m6i.2xlarge', 'c6i']);
      expect(environment.Ec2Configuration).toEqual([{ ImageType: 'ECS_AL2023' }]);
      expect(environment.MaxvCpus).toBe(48);
    }
  });

  test('queues and log group carry the names the API submits to and reads', () => {
    expect(ofType('AWS::Batch::JobQueue').map(([, q]) => q.Properties.JobQueueName)).toEqual([
      'ImagingPlatform-gpu-jobs',
      'ImagingPlatform-cpu-jobs',
    ]);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ImagingPlatform/jobs-test' });
  });

  test('a job that no instance can hold is cancelled after 10 minutes, one without EC2 capacity after the configured wait', () => {
    for (const [, queue] of ofType('AWS::Batch::JobQueue')) {
      expect(queue.Properties.JobStateTimeLimitActions).toEqual([
        expect.objectContaining({
          Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
          Action: 'CANCEL',
          State: 'RUNNABLE',
          MaxTimeSeconds: 600,
        }),
        expect.objectContaining({
          Reason: 'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
          Action: 'CANCEL',
        }),
        expect.objectContaining({
          Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
          Action: 'CANCEL',
          State: 'RUNNABLE',
          MaxTimeSeconds: 45 * 60,
        }),
      ]);
    }
  });

  test('the launch template requires IMDSv2 tokens, with hop limit 1 and no IPv6 metadata endpoint', () => {
    const launchTemplates = ofType('AWS::EC2::LaunchTemplate');
    expect(launchTemplates).toHaveLength(1);
    expect(launchTemplates[0][1].Properties.LaunchTemplateData.MetadataOptions).toEqual({
      HttpEndpoint: 'enabled',
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    });
  });

  test("every compute environment pins the launch template's latest version number, not $Latest or $Default", () => {
    const [[launchTemplateId]] = ofType('AWS::EC2::LaunchTemplate');
    for (const [, environment] of ofType('AWS::Batch::ComputeEnvironment')) {
      expect(environment.Properties.ComputeResources.LaunchTemplate).toEqual({
        LaunchTemplateId: { Ref: launchTemplateId },
        Version: { 'Fn::GetAtt': [launchTemplateId, 'LatestVersionNumber'] },
      });
    }
  });

  test('an infrastructure update lets running jobs finish: in place, jobs kept up to the longest job', () => {
    for (const [, environment] of ofType('AWS::Batch::ComputeEnvironment')) {
      expect(environment.Properties.ReplaceComputeEnvironment).toBe(false);
      expect(environment.Properties.UpdatePolicy).toEqual({
        TerminateJobsOnUpdate: false,
        JobExecutionTimeoutMinutes: LONGEST_JOB.toMinutes(),
      });
    }
  });

  test('an instance that shuts itself down, as it does when its metadata guard fails, terminates', () => {
    const [[, launchTemplate]] = ofType('AWS::EC2::LaunchTemplate');
    expect(launchTemplate.Properties.LaunchTemplateData.InstanceInitiatedShutdownBehavior).toBe('terminate');
  });

  test('the system root and the container volume of the configured size are encrypted gp3', () => {
    const [[, launchTemplate]] = ofType('AWS::EC2::LaunchTemplate');
    expect(launchTemplate.Properties.LaunchTemplateData.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 30, DeleteOnTermination: true },
      },
      {
        DeviceName: CONTAINER_VOLUME_DEVICE,
        Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 250, DeleteOnTermination: true },
      },
    ]);
  });

  test('user data is MIME multipart, as Batch requires, with the metadata guard and the container volume as boot hooks, each reporting its failure', () => {
    const parts = userData().split('--+AWS+CDK+User+Data+Separator==');
    const report = { logGroupName: '<boot failure log group>' };
    expect(parts[0]).toMatch(
      /^Content-Type: multipart\/mixed; boundary="\+AWS\+CDK\+User\+Data\+Separator=="\n/,
    );
    expect(parts[0]).toContain('MIME-Version: 1.0');
    expect(parts[1]).toBe(
      `\nContent-Type: text/cloud-boothook; charset="utf-8"\n\n${instanceMetadataGuardScript(report)}\n`,
    );
    expect(parts[2]).toBe(
      `\nContent-Type: text/cloud-boothook; charset="utf-8"\n\n${containerVolumeScript({ writableRootBytes: WRITABLE_ROOT_BYTES, bootFailures: report })}\n`,
    );
    expect(parts[2]).toContain(`/etc/docker/daemon.json ${WRITABLE_ROOT_BYTES}`);
    expect(parts.at(-1)).toBe('--\n');
  });

  test('the metadata guard drops non-root host traffic and forwarded container traffic to 169.254.169.254', () => {
    const script = userData();
    expect(script).toContain('iptables -I OUTPUT 1 -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j DROP');
    expect(script).toContain('iptables -I DOCKER-USER 1 -d 169.254.169.254/32 -j DROP');
    expect(script).toContain("echo 'ECS_AWSVPC_BLOCK_IMDS=true' >> /etc/ecs/ecs.config");
  });

  test('job definitions retry spot reclaims and nothing else', () => {
    // Batch retries an attempt that no rule matches: the last rule must end every other one.
    expect(JOB_RETRY_STRATEGY.evaluateOnExit.at(-1)).toEqual({ onReason: '*', action: 'EXIT' });
    expect(JOB_RETRY_STRATEGY.evaluateOnExit.filter((rule) => rule.action === 'RETRY')).toEqual([
      { onStatusReason: 'Host EC2*', action: 'RETRY' },
    ]);
  });

  test('the job and execution roles carry the names the API passes to the job definitions it registers', () => {
    const names = jobResourceNames(defaultPlatformConfig);
    const [, jobRole] = roleDescribed(/^The job runner/);
    const [, executionRole] = roleDescribed(/^Pulls the images/);
    expect(jobRole.Properties.RoleName).toBe(names.jobRole);
    expect(executionRole.Properties.RoleName).toBe(names.jobExecutionRole);
  });

  test('the job role reads manifests and inputs and writes outputs and result records, in the jobs folder only', () => {
    const [jobRoleId] = roleDescribed(/^The job runner/);
    const statements = policyOf(jobRoleId);
    const keysOf = (statement: CfnJson) =>
      [statement.Resource].flat().map((arn: CfnJson) => {
        const [, [partition, bucketName, ...key]] = arn['Fn::Join'];
        expect(partition).toBe('arn:aws:s3:::');
        expect(JSON.stringify(bucketName)).toContain('ImagingBucketName');
        return key.join('');
      });
    const s3Statements = statements.filter((s: CfnJson) =>
      [s.Action].flat().some((a: string) => a.startsWith('s3:')),
    );
    expect(
      s3Statements.map((s: CfnJson) => ({ actions: [s.Action].flat().sort(), keys: keysOf(s) })),
    ).toEqual([
      {
        actions: ['s3:GetObject'],
        keys: ['/jobs/*/inputs.json', '/jobs/*/inputs/*', '/jobs/*/model.tar.gz'],
      },
      {
        actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
        keys: ['/jobs/*/outputs/*', '/jobs/*/result.json'],
      },
    ]);
    const rest = statements.filter((s: CfnJson) => !s3Statements.includes(s));
    expect(rest).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      }),
    ]);
    expect(JSON.stringify(rest[0].Resource)).toContain('PlatformKey');
  });

  test("the instance role holds only the ECS agent's calls and the boot hooks' report: no managed policy, no image pulls, no job logs", () => {
    const [instanceRoleId, instanceRole] = roleDescribed(/^ECS agent/);
    expect(instanceRole.Properties.ManagedPolicyArns).toBeUndefined();
    const [bootFailureLogsId] = logGroup(/BootFailureLogs/);
    const statements = policyOf(instanceRoleId);
    const reports = statements.filter((s: CfnJson) =>
      [s.Action].flat().some((a: string) => a.startsWith('logs:')),
    );
    expect(reports).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [bootFailureLogsId, 'Arn'] },
      }),
    ]);
    const actions = statements
      .filter((s: CfnJson) => !reports.includes(s))
      .flatMap((s: CfnJson) => [s.Action].flat());
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^ecs:[A-Za-z]+$/);
    expect(actions).not.toContain('ecs:CreateCluster');
    // Every compute environment's instance profile holds this role.
    const profiles = ofType('AWS::IAM::InstanceProfile');
    expect(profiles).toHaveLength(4);
    for (const [, profile] of profiles) expect(profile.Properties.Roles).toEqual([{ Ref: instanceRoleId }]);
  });

  test('the execution role pulls from granted repositories only and writes to the job log group', () => {
    const [executionRoleId] = roleDescribed(/^Pulls the images/);
    const [logGroupId] = logGroup(/JobLogs/);
    const statements = policyOf(executionRoleId);
    const onAnything = statements.filter((s: CfnJson) => s.Resource === '*');
    expect(onAnything.flatMap((s: CfnJson) => [s.Action].flat())).toEqual(['ecr:GetAuthorizationToken']);
    const pulls = statements.filter((s: CfnJson) => [s.Action].flat().includes('ecr:BatchGetImage'));
    const repositories = pulls
      .flatMap((s: CfnJson) => [s.Resource].flat())
      .map((r: CfnJson) => JSON.stringify(r));
    expect(repositories).toHaveLength(1);
    expect(repositories[0]).toContain('repository/imaging-algorithms');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      }),
    );
  });

  test('the job log group is encrypted with the platform key, kept for the configured days and retained', () => {
    for (const id of [/JobLogs/, /BootFailureLogs/]) {
      const [, group] = logGroup(id);
      expect(JSON.stringify(group.Properties.KmsKeyId)).toContain('PlatformKey');
      expect(group.Properties.RetentionInDays).toBe(90);
      expect(group.DeletionPolicy).toBe('Retain');
    }
  });

  test('the AwsSolutions, HIPAA Security and NIST 800-53 rev 5 packs report nothing unacknowledged here', () => {
    const findings = securityChecks(app).flatMap((pack) =>
      pack.validateScope(app).violations.flatMap((v) =>
        v.violatingResources
          .map((r) => r.constructPath)
          .filter((constructPath) => constructPath?.startsWith('Compute/Algorithms/'))
          .map((constructPath) => `${v.ruleName} ${constructPath}`),
      ),
    );
    expect(findings).toEqual([]);
  });
});

describe('algorithm compute with a single purchase option', () => {
  test('on-demand only: each queue has one on-demand environment', () => {
    const { template } = buildCompute({ ...compute, purchaseOption: 'on-demand' });
    const environments = Object.values(template.findResources('AWS::Batch::ComputeEnvironment'));
    expect(environments.map((e) => e.Properties.ComputeResources.Type)).toEqual(['EC2', 'EC2']);
    for (const queue of Object.values(template.findResources('AWS::Batch::JobQueue'))) {
      expect(queue.Properties.ComputeEnvironmentOrder).toHaveLength(1);
    }
  });
});
