import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { TableName } from '../../lambda/contracts/tables';
import { securityChecks } from '../../lib/core/security-checks';
import { defaultPlatform, synthPlatform } from '../helpers/synth-platform';

/** A value of a synthesized template, as `Template.toJSON()` types it. */
type Json = ReturnType<Template['toJSON']>[string];
type Resources = Record<string, { Type: string; Properties: Record<string, Json>; DeletionPolicy?: string }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Json> };

const INTERFACE_SERVICES = ['ecr.api', 'ecr.dkr', 'ecs', 'ecs-agent', 'ecs-telemetry', 'logs'];

describe('compute stack', () => {
  let app: ReturnType<typeof synthPlatform>['app'];
  let resources: Resources;
  let outputs: Record<string, Record<string, { Value: unknown }>>;
  let tableIds: Record<TableName, string>;
  let dataKeyId: string;

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  /** The one resource of a type, among those whose logical id starts with `prefix`. */
  const only = (type: string, prefix = '') => {
    const found = ofType(type).filter(([id]) => id.startsWith(prefix));
    expect(found).toHaveLength(1);
    return { id: found[0][0], properties: found[0][1].Properties };
  };
  /** The other stack's value behind an Fn::GetStackOutput of this stack. */
  const published = (value: Json) => {
    const output = value?.['Fn::GetStackOutput'];
    return output && outputs[output.StackName]?.[output.OutputName]?.Value;
  };
  const isDataKey = (value: Json) =>
    JSON.stringify(published(value)) === JSON.stringify({ 'Fn::GetAtt': [dataKeyId, 'Arn'] });
  const subnetIds = () => ofType('AWS::EC2::Subnet').map(([id]) => ({ Ref: id }));
  const statementsOf = (roleId: string): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  const roleOf = (description: string) =>
    ofType('AWS::IAM::Role').find(([, r]) => r.Properties.Description === description)![0];

  beforeAll(() => {
    const synthesized = defaultPlatform();
    app = synthesized.app;
    const { platform } = synthesized;
    resources = Template.fromStack(platform.compute).toJSON().Resources;
    outputs = {
      'ImagingPlatform-Data': Template.fromStack(platform.data).toJSON().Outputs,
      'ImagingPlatform-Api': Template.fromStack(platform.api).toJSON().Outputs,
    };
    const logicalId = (construct: IConstruct) =>
      platform.data.getLogicalId(construct.node.defaultChild as CfnElement);
    tableIds = Object.fromEntries(
      (['images', 'imageFiles', 'uploads', 'usage', 'jobs', 'activeJobs'] as const).map((name) => [
        name,
        logicalId(platform.data.tables.table(name)),
      ]),
    ) as Record<TableName, string>;
    dataKeyId = platform.data.getLogicalId(platform.data.platformKey.key.node.defaultChild as CfnElement);
  });

  describe('the isolated network', () => {
    test('has two isolated subnets and no way to the internet: no gateway, no NAT, no route to 0.0.0.0/0', () => {
      const subnets = ofType('AWS::EC2::Subnet');
      expect(subnets).toHaveLength(2);
      expect(new Set(subnets.map(([, s]) => JSON.stringify(s.Properties.AvailabilityZone))).size).toBe(2);
      for (const [, subnet] of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      for (const type of [
        'AWS::EC2::InternetGateway',
        'AWS::EC2::EgressOnlyInternetGateway',
        'AWS::EC2::NatGateway',
        'AWS::EC2::VPCGatewayAttachment',
        'AWS::EC2::TransitGatewayAttachment',
        'AWS::EC2::VPCPeeringConnection',
      ]) {
        expect([type, ofType(type)]).toEqual([type, []]);
      }
      // Gateway endpoints add their prefix-list routes themselves; no route of the stack leads out.
      expect(ofType('AWS::EC2::Route')).toEqual([]);
      const routeTables = ofType('AWS::EC2::RouteTable').map(([id]) => id);
      expect(routeTables).toHaveLength(2);
    });

    test('reaches ECR, ECS and CloudWatch Logs through interface endpoints with private DNS in its subnets', () => {
      const endpoints = ofType('AWS::EC2::VPCEndpoint')
        .map(([, e]) => e.Properties)
        .filter((e) => e.VpcEndpointType === 'Interface');
      expect(endpoints.map((e) => e.ServiceName).sort()).toEqual(
        INTERFACE_SERVICES.map((s) => `com.amazonaws.eu-central-1.${s}`).sort(),
      );
      for (const endpoint of endpoints) {
        expect([endpoint.ServiceName, endpoint.SubnetIds, endpoint.PrivateDnsEnabled]).toEqual([
          endpoint.ServiceName,
          subnetIds(),
          true,
        ]);
      }
    });

    test('reaches S3 and DynamoDB through gateway endpoints on both route tables', () => {
      const gateways = ofType('AWS::EC2::VPCEndpoint')
        .map(([, e]) => e.Properties)
        .filter((e) => e.VpcEndpointType === 'Gateway');
      expect(gateways.map((g) => JSON.stringify(g.ServiceName)).sort()).toEqual(
        ['.dynamodb', '.s3'].map((s) =>
          JSON.stringify({ 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, s]] }),
        ),
      );
      const routeTables = ofType('AWS::EC2::RouteTable').map(([id]) => ({ Ref: id }));
      for (const gateway of gateways) expect(gateway.RouteTableIds).toEqual(routeTables);
    });

    test("the S3 endpoint lets through only the platform's bucket and ECR's layer bucket", () => {
      const s3 = ofType('AWS::EC2::VPCEndpoint')
        .map(([, e]) => e.Properties)
        .find((e) => JSON.stringify(e.ServiceName).endsWith('.s3"]]}'))!;
      const statements: Statement[] = s3.PolicyDocument.Statement;
      const buckets = statements
        .flatMap((s) => [s.Resource].flat())
        .map((resource) => {
          const text = JSON.stringify(resource);
          if (/"OutputName":"ImagingBucketName"/.test(text))
            return text.endsWith('"/*"]]}') ? 'imaging/*' : 'imaging';
          return resource;
        });
      expect(buckets.sort()).toEqual(
        ['arn:aws:s3:::prod-eu-central-1-starport-layer-bucket/*', 'imaging', 'imaging/*'].sort(),
      );
      const layers = statements.find((s) => JSON.stringify(s.Resource).includes('starport'))!;
      expect(layers.Action).toBe('s3:GetObject');
      for (const statement of statements) expect((statement as { Effect?: string }).Effect).toBe('Allow');
    });

    test('security groups allow HTTPS only: workloads out to the endpoints, endpoints in from the workloads', () => {
      const groups = ofType('AWS::EC2::SecurityGroup');
      const endpointGroupId = groups.find(([, g]) => /endpoints/.test(g.Properties.GroupDescription))![0];
      const converterGroupId = groups.find(([, g]) => /converter/.test(g.Properties.GroupDescription))![0];
      const jobsGroupId = groups.find(([, g]) =>
        /algorithm job instances/.test(g.Properties.GroupDescription),
      )![0];
      const stagerGroupId = groups.find(([, g]) => /input stager/.test(g.Properties.GroupDescription))![0];
      const workloads = [converterGroupId, stagerGroupId, jobsGroupId];
      const groupRef = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });
      const rules = [
        ...ofType('AWS::EC2::SecurityGroupIngress').map(([, r]) => ({ way: 'in', ...r.Properties })),
        ...ofType('AWS::EC2::SecurityGroupEgress').map(([, r]) => ({ way: 'out', ...r.Properties })),
        ...groups.flatMap(([id, g]) => [
          ...(g.Properties.SecurityGroupIngress ?? []).map((r: Json) => ({
            way: 'in',
            GroupId: groupRef(id),
            ...r,
          })),
          ...(g.Properties.SecurityGroupEgress ?? []).map((r: Json) => ({
            way: 'out',
            GroupId: groupRef(id),
            ...r,
          })),
        ]),
      ];
      // CDK's stand-in for "no egress at all" on a group without outbound rules.
      const blocksAll = (r: Json) => r.CidrIp === '255.255.255.255/32' && r.IpProtocol === 'icmp';
      const open = rules.filter((r) => !blocksAll(r));
      expect(open.length).toBeGreaterThan(0);
      for (const rule of open) {
        expect([rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIp, rule.CidrIpv6]).toEqual([
          'tcp',
          443,
          443,
          undefined,
          undefined,
        ]);
      }
      const ingress = open.filter((r) => r.way === 'in');
      expect(ingress.map((r) => [r.GroupId, r.SourceSecurityGroupId])).toEqual(
        workloads.map((id) => [groupRef(endpointGroupId), groupRef(id)]),
      );
      const egress = open.filter((r) => r.way === 'out');
      for (const id of workloads) {
        const own = egress.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(groupRef(id)));
        expect(
          own.map((r) =>
            r.DestinationSecurityGroupId ? 'endpoints' : r.DestinationPrefixListId && 'prefix list',
          ),
        ).toEqual(['endpoints', 'prefix list', 'prefix list']);
      }
      expect(egress).toHaveLength(workloads.length * 3);
      expect(resources[endpointGroupId].Properties.SecurityGroupEgress.every(blocksAll)).toBe(true);
      for (const endpoint of ofType('AWS::EC2::VPCEndpoint').filter(
        ([, e]) => e.Properties.VpcEndpointType === 'Interface',
      )) {
        expect(endpoint[1].Properties.SecurityGroupIds).toEqual([groupRef(endpointGroupId)]);
        expect(endpoint[1].Properties.SubnetIds).toEqual(subnetIds());
        expect(endpoint[1].Properties.PrivateDnsEnabled).toBe(true);
      }
    });

    test('the gateway prefix lists that the groups name are read from EC2 for the stack region', () => {
      const lookups = ofType('Custom::AWS').map(([, r]) => JSON.stringify(r.Properties.Create));
      expect(lookups).toHaveLength(2);
      for (const service of ['s3', 'dynamodb']) {
        expect(
          lookups.some((l) => l.includes('DescribeManagedPrefixLists') && l.includes(`.${service}`)),
        ).toBe(true);
      }
    });

    test('logs every flow of the VPC to an encrypted log group kept as configured', () => {
      const flowLog = only('AWS::EC2::FlowLog').properties;
      expect(flowLog).toMatchObject({
        ResourceType: 'VPC',
        ResourceId: { Ref: only('AWS::EC2::VPC').id },
        TrafficType: 'ALL',
        LogDestinationType: 'cloud-watch-logs',
      });
      const group = resources[flowLog.LogGroupName.Ref];
      expect([
        isDataKey(group.Properties.KmsKeyId),
        group.Properties.RetentionInDays,
        group.DeletionPolicy,
      ]).toEqual([true, 365, 'Retain']);
    });
  });

  describe('the converter on Batch', () => {
    test('runs on Fargate, on demand, in the isolated subnets with its own security group', () => {
      const environment = only('AWS::Batch::ComputeEnvironment', 'ImageConverter').properties;
      expect(environment.Type).toBe('managed');
      expect(environment.ComputeResources).toMatchObject({
        Type: 'FARGATE',
        MaxvCpus: 64,
        Subnets: subnetIds(),
      });
      const [group] = environment.ComputeResources.SecurityGroupIds;
      expect(resources[group['Fn::GetAtt'][0]].Properties.GroupDescription).toBe('the image converter');
    });

    test('has its queue and job definition under the names that the api stack submits to', () => {
      expect(only('AWS::Batch::JobQueue', 'ImageConverter').properties).toMatchObject({
        JobQueueName: 'ImagingPlatform-conversion-jobs',
        ComputeEnvironmentOrder: [
          {
            ComputeEnvironment: {
              'Fn::GetAtt': [
                only('AWS::Batch::ComputeEnvironment', 'ImageConverter').id,
                'ComputeEnvironmentArn',
              ],
            },
          },
        ],
      });
      expect(only('AWS::Batch::JobDefinition', 'ImageConverter').properties).toMatchObject({
        JobDefinitionName: 'ImagingPlatform-image-converter',
        PlatformCapabilities: ['FARGATE'],
        // On-demand Fargate: no reclaimed hosts to retry after; a failure marks the image Failed.
        RetryStrategy: { Attempts: 1 },
        Timeout: { AttemptDurationSeconds: 6 * 3600 },
      });
    });

    test('the container runs the image asset as a non-root user on a read-only root, with a scratch volume', () => {
      const container = only('AWS::Batch::JobDefinition', 'ImageConverter').properties.ContainerProperties;
      expect(container).toMatchObject({
        Command: ['Ref::imageId'],
        ReadonlyRootFilesystem: true,
        User: '1000:1000',
        MountPoints: [{ ContainerPath: '/scratch', SourceVolume: 'scratch' }],
        Volumes: [{ Name: 'scratch', Host: {} }],
        NetworkConfiguration: { AssignPublicIp: 'DISABLED' },
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      });
      expect(JSON.stringify(container.Image)).toMatch(
        /container-assets-\$\{AWS::AccountId\}-eu-central-1:[0-9a-f]{64}"/,
      );
      const variables = Object.fromEntries(container.Environment.map((v: Json) => [v.Name, v.Value]));
      expect(variables).toMatchObject({
        CONVERSION_WORK_DIR: '/scratch',
        TMPDIR: '/scratch',
        AWS_REGION: 'eu-central-1',
      });
      expect(published(variables.IMAGES_TABLE)).toEqual({ Ref: tableIds.images });
      expect(published(variables.USAGE_TABLE)).toEqual({ Ref: tableIds.usage });
      // Removing the uploads marks batches on the image, never the upload items.
      expect(variables.UPLOADS_TABLE).toBeUndefined();
      // An algorithm's output image is settled on its job.
      expect(published(variables.JOBS_TABLE)).toEqual({ Ref: tableIds.jobs });
      expect(published(variables.ACTIVE_JOBS_TABLE)).toEqual({ Ref: tableIds.activeJobs });
    });

    test('is sized for several-GB slides by default', () => {
      const container = only('AWS::Batch::JobDefinition', 'ImageConverter').properties.ContainerProperties;
      expect(container.ResourceRequirements).toEqual(
        expect.arrayContaining([
          { Type: 'VCPU', Value: '4' },
          { Type: 'MEMORY', Value: '30720' },
        ]),
      );
      expect(container.EphemeralStorage).toEqual({ SizeInGiB: 100 });
    });

    test('logs to its own encrypted log group, named as the api stack expects', () => {
      const container = only('AWS::Batch::JobDefinition', 'ImageConverter').properties.ContainerProperties;
      expect(container.LogConfiguration.LogDriver).toBe('awslogs');
      const group = resources[container.LogConfiguration.Options['awslogs-group'].Ref];
      expect(JSON.stringify(group.Properties.LogGroupName)).toContain(
        '"/ImagingPlatform/image-converter-",{"Fn::Select"',
      );
      expect([isDataKey(group.Properties.KmsKeyId), group.Properties.RetentionInDays]).toEqual([true, 365]);
    });

    test('every log group of the stack is encrypted with the data key and kept as configured', () => {
      const groups = ofType('AWS::Logs::LogGroup');
      expect(groups.length).toBeGreaterThanOrEqual(3);
      for (const [id, group] of groups) {
        expect([
          id,
          isDataKey(group.Properties.KmsKeyId),
          group.Properties.RetentionInDays,
          group.DeletionPolicy,
        ]).toEqual([id, true, 365, 'Retain']);
      }
    });

    test('the job role may do exactly what a conversion needs', () => {
      const describe = (statement: Statement, resource: Json): string => {
        const service = statement.Condition?.StringEquals?.['kms:ViaService']?.split('.')[0];
        if (service && isDataKey(resource)) return `key via ${service}`;
        const value = JSON.stringify(published(resource));
        const table = (Object.keys(tableIds) as TableName[]).find(
          (name) => value === JSON.stringify({ 'Fn::GetAtt': [tableIds[name], 'Arn'] }),
        );
        if (table) return `table:${table}`;
        const objects = /"OutputName":"ImagingBucketName"\}\},"\/(.+)"\]\]\}$/.exec(JSON.stringify(resource));
        if (objects) return `objects:${objects[1]}`;
        return JSON.stringify(resource);
      };
      const grants = statementsOf(roleOf('Converts one image: its uploads, tables and outputs')).flatMap(
        (s) =>
          [s.Action]
            .flat()
            .flatMap((action) => [s.Resource].flat().map((r) => `${action} on ${describe(s, r as Json)}`)),
      );
      expect(grants.sort()).toEqual(
        [
          'dynamodb:GetItem on table:images',
          'dynamodb:UpdateItem on table:images',
          'dynamodb:PutItem on table:images',
          // Siblings it wrote for an image that another worker failed meanwhile.
          'dynamodb:DeleteItem on table:images',
          // Uploads are marked removed once their objects are deleted.
          'dynamodb:Query on table:imageFiles',
          'dynamodb:UpdateItem on table:usage',
          // An algorithm's output image settles its job, which may end and give back its slots.
          'dynamodb:GetItem on table:jobs',
          'dynamodb:UpdateItem on table:jobs',
          'dynamodb:UpdateItem on table:activeJobs',
          'kms:Decrypt on key via dynamodb',
          's3:GetObject on objects:uploads/*',
          's3:DeleteObject on objects:uploads/*',
          's3:PutObject on objects:images/*',
          's3:AbortMultipartUpload on objects:images/*',
          // Images that algorithms made, where the job runner stored them.
          's3:GetObject on objects:jobs/*',
          'kms:GenerateDataKey on key via s3',
          'kms:Decrypt on key via s3',
        ].sort(),
      );
    });

    test('the execution role pulls from the asset repository and writes to the converter log group only', () => {
      const container = only('AWS::Batch::JobDefinition', 'ImageConverter').properties.ContainerProperties;
      const roleId = container.ExecutionRoleArn['Fn::GetAtt'][0];
      const grants = statementsOf(roleId).flatMap((s) =>
        [s.Action].flat().map((action) => `${action} on ${JSON.stringify(s.Resource)}`),
      );
      const logGroupArn = JSON.stringify({
        'Fn::GetAtt': [container.LogConfiguration.Options['awslogs-group'].Ref, 'Arn'],
      });
      const label = (grant: string) =>
        grant
          .replace(logGroupArn, 'the converter log group')
          .replace(
            / on \{"Fn::Join".*:repository\/",\{"Fn::Sub":"cdk-hnb659fds-container-assets-.*$/,
            ' on the asset repository',
          );
      expect(grants.map(label).sort()).toEqual(
        [
          'logs:CreateLogStream on the converter log group',
          'logs:PutLogEvents on the converter log group',
          'ecr:BatchCheckLayerAvailability on the asset repository',
          'ecr:BatchGetImage on the asset repository',
          'ecr:GetDownloadUrlForLayer on the asset repository',
          'ecr:GetAuthorizationToken on "*"',
        ].sort(),
      );
    });

    test('the security packs report nothing unacknowledged in the stack', () => {
      const findings = securityChecks(app).flatMap((pack) =>
        pack
          .validateScope(app)
          .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
      );
      expect(findings.filter((f) => f.includes('ImagingPlatform-Compute/'))).toEqual([]);
    });
  });

  describe("the input stager on Batch, which copies each job's inputs before it runs", () => {
    test('has its queue and job definition under the names that submit-job uses, on Fargate', () => {
      expect(only('AWS::Batch::JobQueue', 'JobInputStaging').properties).toMatchObject({
        JobQueueName: 'ImagingPlatform-job-input-staging',
      });
      const definition = only('AWS::Batch::JobDefinition', 'JobInputStaging').properties;
      expect(definition).toMatchObject({
        JobDefinitionName: 'ImagingPlatform-job-input-stager',
        PlatformCapabilities: ['FARGATE'],
        ContainerProperties: {
          Command: ['Ref::jobId'],
          ReadonlyRootFilesystem: true,
          User: '1000:1000',
          NetworkConfiguration: { AssignPublicIp: 'DISABLED' },
        },
      });
      const variables = Object.fromEntries(
        definition.ContainerProperties.Environment.map((v: Json) => [v.Name, v.Value]),
      );
      expect(variables.COPY_PART_BYTES).toBe(String(64 * 1024 ** 2));
    });

    test("its job role reads images, uploads and jobs' outputs (any version) and writes only the inputs of jobs", () => {
      const definition = only('AWS::Batch::JobDefinition', 'JobInputStaging').properties;
      const roleId = definition.ContainerProperties.JobRoleArn['Fn::GetAtt'][0];
      const describe = (statement: Statement, resource: Json): string => {
        const service = statement.Condition?.StringEquals?.['kms:ViaService']?.split('.')[0];
        if (service && isDataKey(resource)) return `key via ${service}`;
        const objects = /"OutputName":"ImagingBucketName"\}\},"\/(.+)"\]\]\}$/.exec(JSON.stringify(resource));
        return objects ? `objects:${objects[1]}` : JSON.stringify(resource);
      };
      const grants = statementsOf(roleId).flatMap((s) =>
        [s.Action]
          .flat()
          .flatMap((action) => [s.Resource].flat().map((r) => `${action} on ${describe(s, r as Json)}`)),
      );
      expect(grants.sort()).toEqual(
        [
          's3:GetObject on objects:jobs/*/inputs.json*',
          's3:GetObject on objects:images/*',
          's3:GetObjectVersion on objects:images/*',
          's3:GetObject on objects:uploads/*',
          's3:GetObjectVersion on objects:uploads/*',
          // The outputs of the jobs a job evaluates (predictions).
          's3:GetObject on objects:jobs/*/outputs/*',
          's3:GetObjectVersion on objects:jobs/*/outputs/*',
          's3:PutObject on objects:jobs/*/inputs/*',
          's3:AbortMultipartUpload on objects:jobs/*/inputs/*',
          // The algorithm's model, copied beside the inputs.
          's3:GetObject on objects:algorithms/*/models/*.tar.gz*',
          's3:PutObject on objects:jobs/*/model.tar.gz*',
          's3:AbortMultipartUpload on objects:jobs/*/model.tar.gz*',
          'kms:GenerateDataKey on key via s3',
          'kms:Decrypt on key via s3',
        ].sort(),
      );
    });
  });
});

describe('compute stack: algorithm images', () => {
  test('the job execution role may pull the images of any repository of the account, and only pull', () => {
    const { platform } = defaultPlatform();
    const resources = Template.fromStack(platform.compute).toJSON().Resources as Resources;
    const [roleId] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::IAM::Role' && /^Pulls the images/.test(r.Properties.Description),
    )!;
    const grants = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('ecr:')));
    const onRepositories = grants.filter((s) =>
      [s.Resource].flat().some((r) => JSON.stringify(r).endsWith(':repository/*"]]}')),
    );
    expect(onRepositories.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer',
    ]);
  });
});

describe('compute stack: the algorithm repository', () => {
  test('the job execution role may pull from the repository that builds push to, as the data stack publishes it', () => {
    const { platform } = defaultPlatform();
    const resources = Template.fromStack(platform.compute).toJSON().Resources as Resources;
    const dataOutputs = Template.fromStack(platform.data).toJSON().Outputs as Record<string, { Value: Json }>;
    const repositoryId = Object.keys(
      Template.fromStack(platform.data).findResources('AWS::ECR::Repository'),
    )[0];
    const [roleId] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::IAM::Role' && /^Pulls the images/.test(r.Properties.Description),
    )!;
    const onRepository = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) =>
        [s.Resource].flat().some((resource) => {
          const output = (resource as Json)?.['Fn::GetStackOutput'];
          return (
            output?.StackName === 'ImagingPlatform-Data' &&
            JSON.stringify(dataOutputs[output.OutputName]?.Value) ===
              JSON.stringify({ 'Fn::GetAtt': [repositoryId, 'Arn'] })
          );
        }),
      );
    expect(onRepository.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer',
    ]);
  });
});

describe('compute stack with other converter sizes', () => {
  test('the configured vCPUs, memory, disk and vCPU ceiling reach the job definition and environment', () => {
    const { platform } = synthPlatform({
      'platform.conversion.containerVcpus': '8',
      'platform.conversion.containerMemoryMiB': String(60 * 1024),
      'platform.conversion.containerStorageGiB': '200',
      'platform.conversion.maxVcpus': '16',
    });
    const template = Template.fromStack(platform.compute);
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        ResourceRequirements: [
          { Type: 'MEMORY', Value: '61440' },
          { Type: 'VCPU', Value: '8' },
        ],
        EphemeralStorage: { SizeInGiB: 200 },
      },
    });
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: { MaxvCpus: 16 } });
  });
});
