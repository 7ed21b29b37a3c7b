import { Template } from 'aws-cdk-lib/assertions';
import { BUILD_IMAGE_VARIABLE, BUILD_PIPELINE } from '../../lambda/contracts/builds';
import { BACKGROUND_FUNCTIONS } from '../../lambda/deployments';
import { securityChecks } from '../../lib/core/security-checks';
import { synthPlatform } from '../helpers/synth-platform';

const REGISTER = BACKGROUND_FUNCTIONS.find((d) => d.trigger.kind === 'buildPipelineAction')!;

type Json = ReturnType<Template['toJSON']>[string];
type Resources = Record<string, { Type: string; Properties: Record<string, Json> }>;

describe('api stack: the build pipeline', () => {
  let synthesized: ReturnType<typeof synthPlatform>;
  let resources: Resources;
  let dataOutputs: Record<string, { Value: Json }>;

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  /** The data stack's value behind an Fn::GetStackOutput. */
  const published = (value: Json) => {
    const output = value?.['Fn::GetStackOutput'];
    return output?.StackName === 'ImagingPlatform-Data' ? dataOutputs[output.OutputName]?.Value : undefined;
  };

  beforeAll(() => {
    synthesized = synthPlatform();
    resources = Template.fromStack(synthesized.platform.api).toJSON().Resources;
    dataOutputs = Template.fromStack(synthesized.platform.data).toJSON().Outputs;
  });

  test('builds the pipeline, whose register action invokes that function', () => {
    const pipelines = ofType('AWS::CodePipeline::Pipeline');
    expect(pipelines).toHaveLength(1);
    const register = (pipelines[0][1].Properties.Stages as Json[])
      .flatMap((stage) => stage.Actions)
      .find((action: Json) => action.Name === BUILD_PIPELINE.registerAction);
    const functionId = register.Configuration.FunctionName.Ref;
    expect(resources[functionId].Properties.Description).toBe(REGISTER.description);
  });

  test('runs the builder: its buildspec inline, exporting the image, and its staged bundles as an asset', () => {
    const [[, project]] = ofType('AWS::CodeBuild::Project');
    const buildspec = JSON.parse(project.Properties.Source.BuildSpec);
    expect(buildspec.env['exported-variables']).toEqual([BUILD_IMAGE_VARIABLE]);
    // A build that pushed ends once ECR's scan has finished: registration refuses an image without one.
    expect(buildspec.phases.post_build.commands.join('\n')).toContain('aws ecr wait image-scan-complete');
    const variables = Object.fromEntries(
      (project.Properties.Environment.EnvironmentVariables as Json[]).map((v) => [v.Name, v.Value]),
    );
    expect(JSON.stringify(buildspec)).toContain('$BUILDER_ASSET');
    expect(JSON.stringify(variables.BUILDER_ASSET)).toMatch(/^\{"Fn::Sub":"s3:\/\/cdk-hnb659fds-assets-/);
  });

  test('pushes to the repository that the data stack publishes, under the name it was created with', () => {
    const repositoryId = Object.keys(
      Template.fromStack(synthesized.platform.data).findResources('AWS::ECR::Repository'),
    )[0];
    const [[, project]] = ofType('AWS::CodeBuild::Project');
    const roleId = project.Properties.ServiceRole['Fn::GetAtt'][0];
    const push = ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[])
      .find((s) => [s.Action].flat().includes('ecr:PutImage'));
    const name = /:repository\/",(\{"Fn::GetStackOutput".*?\}\})/.exec(JSON.stringify(push.Resource))!;
    expect(published(JSON.parse(name[1]))).toEqual({ Ref: repositoryId });
    const variables = project.Properties.Environment.EnvironmentVariables as Json[];
    const uri = JSON.stringify(variables.find((v) => v.Name === 'IMAGE_REPOSITORY').Value);
    expect(uri).toContain('.dkr.ecr.');
    expect(uri).toContain(name[1]);
  });

  test('reads build contexts from the imaging bucket as the data stack publishes it', () => {
    const [[, pipeline]] = ofType('AWS::CodePipeline::Pipeline');
    const source = (pipeline.Properties.Stages as Json[])[0].Actions[0];
    const bucketId = Object.keys(
      Template.fromStack(synthesized.platform.data).findResources('AWS::S3::Bucket', {
        Properties: { AccelerateConfiguration: {} },
      }),
    )[0];
    expect(published(source.Configuration.S3Bucket)).toEqual({ Ref: bucketId });
  });

  test("adds nothing that holds data to the api stack: the artifact bucket is the data stack's", () => {
    const held = ['AWS::S3::Bucket', 'AWS::ECR::Repository', 'AWS::SQS::Queue', 'AWS::KMS::Key'];
    expect(ofType('AWS::CodePipeline::Pipeline')).toHaveLength(1);
    expect(Object.values(resources).filter((r) => held.includes(r.Type))).toEqual([]);
    const [[, pipeline]] = ofType('AWS::CodePipeline::Pipeline');
    const bucketId = Object.keys(
      Template.fromStack(synthesized.platform.data).findResources('AWS::S3::Bucket'),
    ).find((id) => id.startsWith('BuildArtifacts'));
    expect(published(pipeline.Properties.ArtifactStore.Location)).toEqual({ Ref: bucketId });
  });

  test('the build log group is retained under the name the handlers read, unique to this creation of the stack', () => {
    const [[logGroupId, logGroup]] = ofType('AWS::Logs::LogGroup').filter(([id]) =>
      id.startsWith('AlgorithmBuilds'),
    );
    expect((resources[logGroupId] as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(logGroup.Properties.LogGroupName)).toContain('AWS::StackId');
    const [[, project]] = ofType('AWS::CodeBuild::Project');
    expect(project.Properties.LogsConfig.CloudWatchLogs.GroupName).toEqual({ Ref: logGroupId });
    const readers = ofType('AWS::Lambda::Function').filter(
      ([, f]) => f.Properties.Environment?.Variables?.BUILD_LOG_GROUP,
    );
    // Every function that reaches the pipeline or reads its logs: start, track, read and cancel builds.
    expect(readers).toHaveLength(4);
    for (const [, reader] of readers) {
      expect(reader.Properties.Environment.Variables.BUILD_LOG_GROUP).toEqual(
        logGroup.Properties.LogGroupName,
      );
    }
  });

  test('the security packs report nothing unacknowledged in the pipeline', () => {
    const { app } = synthesized;
    const findings = securityChecks(app).flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    );
    expect(findings.filter((f) => f.includes('ImagingPlatform-Api/'))).toEqual([]);
  });
});
