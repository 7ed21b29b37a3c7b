import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeInlinePolicy, acknowledgeWildcard } from '../core/acknowledgements';

/** CodeBuild's compute types that builds may run on. */
export type BuildComputeType = 'BUILD_GENERAL1_SMALL' | 'BUILD_GENERAL1_MEDIUM' | 'BUILD_GENERAL1_LARGE';

export interface BuildProjectProps {
  readonly projectName: string;
  readonly logGroupName: string;
  readonly logRetentionDays: number;
  /** Encrypts the source artifacts the project reads, and its log group. */
  readonly encryptionKey: kms.IKey;
  readonly computeType: BuildComputeType;
  readonly timeoutMinutes: number;
  /** The builder's inline buildspec. */
  readonly buildspec: Record<string, unknown>;
  /** The builder's bundles, which the buildspec downloads. */
  readonly builder: s3assets.Asset;
  /** The variable that gives the buildspec the builder's `s3://` URL. */
  readonly builderAssetVariable: string;
  /** Where the builder pushes. */
  readonly repository: ecr.IRepository;
  /** The pipeline's artifact bucket, which holds the source artifacts only. */
  readonly artifactBucket: s3.IBucket;
  /** Variables for the builder besides the asset's URL. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The CodeBuild project that runs the builder: privileged, since the builder runs Docker; in
 * CodeBuild's own network, since builds pull base images from public registries (nothing of
 * the platform's data is within its reach). Its role may do only what a build does: read its
 * source artifact and the builder, push to the algorithm repository, and write its log.
 * CodeBuild's own grants (its default log groups, report groups, the key for everything) are
 * not applied: the project is given its role without policy updates.
 */
export class BuildProject extends Construct {
  readonly project: codebuild.PipelineProject;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BuildProjectProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    // Named as the handlers read it; retained, as the builds' logs outlive a redeploy.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: 'Runs the builder: reads its source artifact, pushes to the algorithm repository',
    });
    const allow = (actions: string[], resources: string[], conditions?: iam.Conditions) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const artifacts = props.artifactBucket.arnForObjects('*');
    allow(['s3:GetObject'], [artifacts]);
    allow(['s3:GetObject'], [props.builder.bucket.arnForObjects(props.builder.s3ObjectKey)]);
    allow(['kms:Decrypt'], [props.encryptionKey.keyArn], {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
    });
    allow(
      [
        'ecr:BatchCheckLayerAvailability',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        // The build ends once ECR's scan on push has finished, which registration requires.
        'ecr:DescribeImageScanFindings',
      ],
      [props.repository.repositoryArn],
    );
    allow(['ecr:GetAuthorizationToken'], ['*']);
    allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn]);
    acknowledgeInlinePolicy(this.role);
    acknowledgeWildcard(
      this.role,
      artifacts,
      "The bucket is the pipeline's own and holds nothing but its source artifacts, under keys CodePipeline chooses per execution; the role may only read them.",
    );
    acknowledgeWildcard(
      this.role,
      '*',
      'ecr:GetAuthorizationToken supports no resource-level permission; the token opens only the repository whose push the role is granted separately.',
    );

    this.project = new codebuild.PipelineProject(this, 'Project', {
      projectName: props.projectName,
      description: "Builds an algorithm's context into a runnable image in the algorithm repository",
      role: this.role.withoutPolicyUpdates(),
      environment: {
        buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
        computeType: props.computeType as codebuild.ComputeType,
        privileged: true,
      },
      environmentVariables: Object.fromEntries(
        Object.entries({ ...props.environment, [props.builderAssetVariable]: props.builder.s3ObjectUrl }).map(
          ([name, value]) => [name, { value }],
        ),
      ),
      buildSpec: codebuild.BuildSpec.fromObject(props.buildspec),
      timeout: Duration.minutes(props.timeoutMinutes),
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup: this.logGroup } },
      grantReportGroupPermissions: false,
    });
    acknowledge(this.project, {
      id: 'HIPAA.Security-CodeBuildProjectSourceRepoUrl',
      reason:
        "The project's source is the pipeline's artifact, not a repository: there is no repository URL or credential for OAuth to replace.",
    });
    acknowledge(this.project, {
      id: 'AwsSolutions-CB3',
      reason:
        "The builder runs Docker to build the author's Dockerfile, which CodeBuild allows only in privileged mode; the build sees no data of the platform and its role may only push to the algorithm repository.",
    });
  }
}
