import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_PIPELINE } from '../../lambda/contracts/builds';
import { AlgorithmBuilds } from '../../lib/builds/algorithm-builds';
import { BuildArtifactBucket } from '../../lib/builds/build-artifact-bucket';
import { buildResourceNames } from '../../lib/builds/build-resource-names';
import { configSettings } from '../../lib/config/config-settings';
import { defaultPlatformConfig, PlatformConfig } from '../../lib/config/platform-config';
import { securityChecks } from '../../lib/core/security-checks';
import { nameUniqueToStack } from '../../lib/core/stack-unique-name';

const cdkJson = require(path.join(__dirname, '..', '..', 'cdk.json')) as { context: Record<string, unknown> };

type Json = ReturnType<Template['toJSON']>[string];
type Statement = { Action: string | string[]; Resource: Json; Condition?: Json };
type Resources = Record<string, { Type: string; Properties: Record<string, Json> }>;

const BUILDSPEC = { version: '0.2', phases: { build: { commands: ['node builder/main.cjs'] } } };
const names = buildResourceNames({ name: 'Imaging' });
const BUILDER_ASSET_VARIABLE = 'BUILDER_ASSET';

/** One stack holding the pipeline, with stand-ins for what the platform's stacks give it. */
function synthBuilds() {
  const app = new App({ context: cdkJson.context });
  const stack = new Stack(app, 'Builds', { env: { account: '111111111111', region: 'eu-central-1' } });
  const key = new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true });
  const imagingBucket = new s3.Bucket(stack, 'Imaging', { versioned: true, encryptionKey: key });
  const repository = new ecr.Repository(stack, 'Repository', { repositoryName: names.repository });
  const register = new lambda.Function(stack, 'Register', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  const config: PlatformConfig = {
    ...defaultPlatformConfig,
    builds: { ...defaultPlatformConfig.builds, computeType: 'BUILD_GENERAL1_LARGE', timeoutMinutes: 90 },
  };
  const artifacts = new BuildArtifactBucket(stack, 'BuildArtifacts', { encryptionKey: key });
  const staged: string[] = [];
  const builds = new AlgorithmBuilds(stack, 'AlgorithmBuilds', {
    names,
    logGroupName: nameUniqueToStack(stack, names.logGroup),
    settings: config.builds,
    limits: configSettings(config),
    imagingBucket,
    platformKey: key,
    artifactBucket: artifacts.bucket,
    repository,
    register,
    builder: {
      stage: (dir) => {
        staged.push(dir);
        fs.writeFileSync(path.join(dir, 'main.cjs'), '// the builder\n');
      },
      buildspec: BUILDSPEC,
      assetVariable: BUILDER_ASSET_VARIABLE,
    },
    logRetentionDays: 365,
  });
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as import('aws-cdk-lib').CfnElement);
  return {
    app,
    stack,
    builds,
    staged,
    ids: {
      key: id(key),
      imagingBucket: id(imagingBucket),
      repository: id(repository),
      register: id(register),
      artifactBucket: id(artifacts.bucket),
      logGroup: id(builds.project.logGroup),
      project: id(builds.project.project),
      pipelineRole: stack.getLogicalId(
        builds.pipeline.role.node.defaultChild as import('aws-cdk-lib').CfnElement,
      ),
    },
  };
}

describe('algorithm builds', () => {
  let synthesized: ReturnType<typeof synthBuilds>;
  let resources: Resources;
  let pipeline: Record<string, Json>;

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const statementsOf = (roleId: string): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  const arnOf = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
  /** Each action on each resource, with names for the resources the stack knows. */
  const grants = (roleId: string) => {
    const { ids } = synthesized;
    const label = (statement: Statement, resource: Json) => {
      const text = JSON.stringify(resource);
      const via = statement.Condition?.StringEquals?.['kms:ViaService'];
      if (text === arnOf(ids.key)) return via ? `the key via ${via.split('.')[0]}` : 'the key';
      const labels: [string, string][] = [
        [arnOf(ids.imagingBucket), 'imaging bucket'],
        [arnOf(ids.artifactBucket), 'artifact bucket'],
        [arnOf(ids.repository), 'the repository'],
        [arnOf(ids.logGroup), 'the build log group'],
      ];
      for (const [arn, name] of labels) {
        if (text === arn) return `the ${name}`.replace('the the', 'the');
        const objects = new RegExp(`^\\{"Fn::Join":\\["",\\[${escape(arn)},"/(.*)"\\]\\]\\}$`).exec(text);
        if (objects) return `${name} objects ${objects[1]}`;
      }
      return text;
    };
    return statementsOf(roleId)
      .flatMap((s) =>
        [s.Action].flat().flatMap((action) => [s.Resource].flat().map((r) => `${action} on ${label(s, r)}`)),
      )
      .sort();
  };
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const projectRoleId = () =>
    (ofType('AWS::CodeBuild::Project')[0][1].Properties.ServiceRole as Json)['Fn::GetAtt'][0] as string;
  const actionOf = (name: string) =>
    (pipeline.Stages as Json[]).flatMap((stage) => stage.Actions).find((a: Json) => a.Name === name);

  beforeAll(() => {
    synthesized = synthBuilds();
    resources = Template.fromStack(synthesized.stack).toJSON().Resources;
    pipeline = ofType('AWS::CodePipeline::Pipeline')[0][1].Properties;
  });

  describe('the pipeline', () => {
    test('is one CodePipeline V2 pipeline under its name, running executions in PARALLEL', () => {
      expect(ofType('AWS::CodePipeline::Pipeline')).toHaveLength(1);
      expect([pipeline.Name, pipeline.PipelineType, pipeline.ExecutionMode]).toEqual([
        'Imaging-algorithm-builds',
        'V2',
        'PARALLEL',
      ]);
    });

    test('declares ALGORITHM_ID and BUILD_ID without defaults, so each execution must name them', () => {
      expect(pipeline.Variables).toEqual([
        { Name: 'ALGORITHM_ID', Description: expect.any(String) },
        { Name: 'BUILD_ID', Description: expect.any(String) },
        { Name: 'DOCKERFILE', Description: expect.any(String), DefaultValue: 'Dockerfile' },
      ]);
    });

    test('runs Context, Build and Register, one action each, named as the contract says', () => {
      const stages = (pipeline.Stages as Json[]).map((stage) => [
        stage.Name,
        stage.Actions.map((a: Json) => `${a.ActionTypeId.Category}/${a.ActionTypeId.Provider} ${a.Name}`),
      ]);
      expect(stages).toEqual([
        [BUILD_PIPELINE.sourceAction, [`Source/S3 ${BUILD_PIPELINE.sourceAction}`]],
        [BUILD_PIPELINE.buildAction, [`Build/CodeBuild ${BUILD_PIPELINE.buildAction}`]],
        [BUILD_PIPELINE.registerAction, [`Invoke/Lambda ${BUILD_PIPELINE.registerAction}`]],
      ]);
    });

    test('its source takes a key override per execution and never starts the pipeline itself', () => {
      const source = actionOf(BUILD_PIPELINE.sourceAction);
      expect(source.Configuration).toEqual({
        S3Bucket: { Ref: synthesized.ids.imagingBucket },
        S3ObjectKey: 'builds/placeholder.zip',
        PollForSourceChanges: false,
        AllowOverrideForS3ObjectKey: true,
      });
      // No rule on the bucket's writes, and no trail, start it.
      expect(ofType('AWS::Events::Rule')).toEqual([]);
      expect(ofType('AWS::CloudTrail::Trail')).toEqual([]);
    });

    test('the build action passes the ids, the Dockerfile and the candidate tag, and exports into Build', () => {
      const build = actionOf(BUILD_PIPELINE.buildAction);
      expect(build.Namespace).toBe(BUILD_PIPELINE.buildNamespace);
      expect(JSON.parse(build.Configuration.EnvironmentVariables)).toEqual([
        { name: 'ALGORITHM_ID', type: 'PLAINTEXT', value: '#{variables.ALGORITHM_ID}' },
        { name: 'BUILD_ID', type: 'PLAINTEXT', value: '#{variables.BUILD_ID}' },
        { name: 'DOCKERFILE', type: 'PLAINTEXT', value: '#{variables.DOCKERFILE}' },
        { name: 'IMAGE_TAG', type: 'PLAINTEXT', value: 'build-#{variables.BUILD_ID}' },
      ]);
    });

    test('the register action invokes the register function with the ids and the pushed image', () => {
      const registerAction = actionOf(BUILD_PIPELINE.registerAction);
      expect(registerAction.Configuration.FunctionName).toEqual({ Ref: synthesized.ids.register });
      expect(JSON.parse(registerAction.Configuration.UserParameters)).toEqual({
        algorithmId: '#{variables.ALGORITHM_ID}',
        buildId: '#{variables.BUILD_ID}',
        image: '#{Build.IMAGE}',
      });
    });

    test('keeps its artifacts in its own bucket, encrypted with the platform key', () => {
      expect(pipeline.ArtifactStore).toEqual({
        Type: 'S3',
        Location: { Ref: synthesized.ids.artifactBucket },
        EncryptionKey: { Type: 'KMS', Id: { 'Fn::GetAtt': [synthesized.ids.key, 'Arn'] } },
      });
    });

    test('every action runs under a role of its own that only the pipeline role may assume', () => {
      const actionRoles = (pipeline.Stages as Json[])
        .flatMap((stage) => stage.Actions)
        .map((a: Json) => a.RoleArn['Fn::GetAtt'][0]);
      expect(new Set(actionRoles).size).toBe(3);
      for (const roleId of actionRoles) {
        expect(resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': [synthesized.ids.pipelineRole, 'Arn'] } },
          },
        ]);
      }
    });

    test('the source role reads build contexts only, and writes their copies to the artifact bucket', () => {
      const sourceRoleId = actionOf(BUILD_PIPELINE.sourceAction).RoleArn['Fn::GetAtt'][0];
      expect(grants(sourceRoleId)).toEqual(
        [
          's3:GetObject on imaging bucket objects builds/*',
          's3:GetObjectVersion on imaging bucket objects builds/*',
          's3:GetBucketVersioning on the imaging bucket',
          's3:GetBucketLocation on the imaging bucket',
          's3:GetBucketAcl on the imaging bucket',
          's3:PutObject on artifact bucket objects *',
          's3:AbortMultipartUpload on artifact bucket objects *',
          'kms:Decrypt on the key via s3',
          'kms:GenerateDataKey on the key via s3',
        ].sort(),
      );
    });
  });

  describe('the build project', () => {
    test('is named as the handlers and the state change rule name it, and runs privileged on Amazon Linux x86_64', () => {
      const project = ofType('AWS::CodeBuild::Project');
      expect(project).toHaveLength(1);
      const props = project[0][1].Properties;
      expect(props.Name).toBe('Imaging-algorithm-builds');
      expect(props.Environment).toMatchObject({
        Type: 'LINUX_CONTAINER',
        Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
        ComputeType: 'BUILD_GENERAL1_LARGE',
        PrivilegedMode: true,
      });
      expect(props.TimeoutInMinutes).toBe(90);
      expect(props.VpcConfig).toBeUndefined();
      expect(props.EncryptionKey).toEqual({ 'Fn::GetAtt': [synthesized.ids.key, 'Arn'] });
    });

    test('has the builder buildspec inline, not a file name', () => {
      const source = ofType('AWS::CodeBuild::Project')[0][1].Properties.Source;
      expect(source.Type).toBe('CODEPIPELINE');
      expect(typeof source.BuildSpec).toBe('string');
      expect(JSON.parse(source.BuildSpec)).toEqual(BUILDSPEC);
    });

    test('gives the builder its repository, engine, push, limits and the URL of its staged bundles', () => {
      const variables = Object.fromEntries(
        (ofType('AWS::CodeBuild::Project')[0][1].Properties.Environment.EnvironmentVariables as Json[]).map(
          (v) => [v.Name, v.Value],
        ),
      );
      expect(Object.keys(variables).sort()).toEqual(
        [
          'IMAGE_REPOSITORY',
          'CONTAINER_ENGINE',
          'PULL_NEVER',
          'PUSH',
          'BUILD_CONTEXT_BYTES',
          'BUILD_CONTEXT_ENTRIES',
          'BUILD_CONTEXT_EXTRACTED_BYTES',
          'BUILDS_PER_USER',
          'BUILD_TIMEOUT_MINUTES',
          BUILDER_ASSET_VARIABLE,
        ].sort(),
      );
      expect([variables.CONTAINER_ENGINE, variables.PUSH, variables.PULL_NEVER]).toEqual([
        'docker',
        'true',
        'false',
      ]);
      expect(JSON.stringify(variables.IMAGE_REPOSITORY)).toContain(
        `".dkr.ecr.",{"Fn::Select":[3,{"Fn::Split":[":",{"Fn::GetAtt":["${synthesized.ids.repository}","Arn"]}]}]}`,
      );
      expect([variables.BUILD_CONTEXT_ENTRIES, variables.BUILD_TIMEOUT_MINUTES]).toEqual(['100000', '90']);
      expect(variables[BUILDER_ASSET_VARIABLE]).toMatch(
        /^s3:\/\/cdk-hnb659fds-assets-111111111111-eu-central-1\/[0-9a-f]{64}\.zip$/,
      );
    });

    test('the builder is staged at synth time as the file asset that the URL names', () => {
      expect(synthesized.staged).toHaveLength(1);
      expect(fs.readFileSync(path.join(synthesized.staged[0], 'main.cjs'), 'utf8')).toBe('// the builder\n');
    });

    test('logs to its own encrypted log group under the name the handlers read', () => {
      const props = ofType('AWS::CodeBuild::Project')[0][1].Properties;
      expect(props.LogsConfig).toEqual({
        CloudWatchLogs: { GroupName: { Ref: synthesized.ids.logGroup }, Status: 'ENABLED' },
      });
      expect(resources[synthesized.ids.logGroup].Properties).toEqual({
        // Retained, under a name of this creation of the stack, so that a redeploy never meets it.
        LogGroupName: {
          'Fn::Join': [
            '',
            [
              '/Imaging/algorithm-builds-',
              { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
            ],
          ],
        },
        KmsKeyId: { 'Fn::GetAtt': [synthesized.ids.key, 'Arn'] },
        RetentionInDays: 365,
      });
      expect((resources[synthesized.ids.logGroup] as { DeletionPolicy?: string }).DeletionPolicy).toBe(
        'Retain',
      );
    });

    test('its role may exactly read its source and the builder, push to the repository and write its log', () => {
      const asset = /^s3:\/\/([^/]+)\/(.+)$/.exec(
        (ofType('AWS::CodeBuild::Project')[0][1].Properties.Environment.EnvironmentVariables as Json[]).find(
          (v) => v.Name === BUILDER_ASSET_VARIABLE,
        ).Value,
      )!;
      const builderObject = JSON.stringify(`arn:aws:s3:::${asset[1]}/${asset[2]}`);
      expect(
        grants(projectRoleId())
          .map((g) => g.replace(builderObject, 'the builder asset'))
          .sort(),
      ).toEqual(
        [
          's3:GetObject on artifact bucket objects *',
          's3:GetObject on the builder asset',
          'kms:Decrypt on the key via s3',
          'ecr:BatchCheckLayerAvailability on the repository',
          'ecr:InitiateLayerUpload on the repository',
          'ecr:UploadLayerPart on the repository',
          'ecr:CompleteLayerUpload on the repository',
          'ecr:PutImage on the repository',
          'ecr:BatchGetImage on the repository',
          'ecr:GetDownloadUrlForLayer on the repository',
          'ecr:DescribeImageScanFindings on the repository',
          'ecr:GetAuthorizationToken on "*"',
          'logs:CreateLogStream on the build log group',
          'logs:PutLogEvents on the build log group',
        ].sort(),
      );
      // The role has no other policy: no managed policy, no grant that CodeBuild would add.
      expect(resources[projectRoleId()].Properties.ManagedPolicyArns).toBeUndefined();
      const attached = ofType('AWS::IAM::Policy').filter(([, p]) =>
        JSON.stringify(p.Properties.Roles).includes(projectRoleId()),
      );
      expect(attached).toHaveLength(1);
    });
  });

  describe('the artifact bucket', () => {
    test('is encrypted with the platform key, TLS only, private, without ACLs, and expires artifacts', () => {
      const bucket = resources[synthesized.ids.artifactBucket].Properties;
      // Retained, as every bucket of the data stack, where it lives: it empties itself.
      expect((resources[synthesized.ids.artifactBucket] as { DeletionPolicy?: string }).DeletionPolicy).toBe(
        'Retain',
      );
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [synthesized.ids.key, 'Arn'] },
          },
        },
      ]);
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.LifecycleConfiguration.Rules).toEqual([
        expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 3 }),
      ]);
      const policy = ofType('AWS::S3::BucketPolicy').find(
        ([, p]) =>
          JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: synthesized.ids.artifactBucket }),
      )![1];
      const denials = policy.Properties.PolicyDocument.Statement.filter((s: Json) => s.Effect === 'Deny');
      expect(denials.map((s: Json) => s.Condition)).toEqual(
        expect.arrayContaining([
          { Bool: { 'aws:SecureTransport': 'false' } },
          { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        ]),
      );
    });
  });

  test('the security packs report nothing unacknowledged in the construct', () => {
    const findings = securityChecks(synthesized.app).flatMap((pack) =>
      pack
        .validateScope(synthesized.app)
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    );
    expect(findings.filter((f) => /Builds\/(AlgorithmBuilds|BuildArtifacts)\//.test(f))).toEqual([]);
  });

  test('CloudFormation validation accepts the template', () => {
    expect(() => synthesized.app.synth()).not.toThrow();
  });
});
