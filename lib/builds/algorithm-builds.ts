import { Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUILDS_PREFIX } from '../../lambda/contracts/bucket-layout';
import {
  BUILD_IMAGE_TAGS,
  BUILD_IMAGE_VARIABLE,
  BUILD_LIMITS,
  BUILD_PIPELINE,
  BUILDER_ENVIRONMENT,
} from '../../lambda/contracts/builds';
import { SettingValues } from '../../lambda/contracts/settings';
import { PlatformConfig } from '../config/platform-config';
import { acknowledge, acknowledgeInlinePolicy, acknowledgeWildcard } from '../core/acknowledgements';
import { BuildProject } from './build-project';
import { BuildResourceNames } from './build-resource-names';
import { BuilderAsset } from './builder-asset';
import { ContextSourceAction } from './context-source-action';

/** What the builder brings: its bundles, staged at synth time, and the buildspec that runs them. */
export interface BuilderSource {
  /** Puts the builder's bundles into a folder, with the local esbuild. */
  readonly stage: (dir: string) => void;
  /** The inline buildspec, which downloads the bundles from `assetVariable` and runs them. */
  readonly buildspec: Record<string, unknown>;
  /** The project's variable that gives the buildspec the bundles' `s3://` URL. */
  readonly assetVariable: string;
}

export interface AlgorithmBuildsProps {
  readonly names: BuildResourceNames;
  /**
   * The build log group's name: `names.logGroup` with the id of its stack's creation, since the
   * group is retained (see `BuildAccess`).
   */
  readonly logGroupName: string;
  readonly settings: PlatformConfig['builds'];
  /** What a build may be, as the builder reads it (from the same configuration). */
  readonly limits: SettingValues<typeof BUILD_LIMITS.shape>;
  /**
   * Holds the builds' source objects under `builds/`: versioned, as an S3 source action needs,
   * and named as this stack reads it (see `publishedValue`).
   */
  readonly imagingBucket: s3.IBucket;
  /** Encrypts the imaging bucket, the artifacts and the build log. */
  readonly platformKey: kms.IKey;
  /**
   * The pipeline's own artifact bucket (`BuildArtifactBucket`), encrypted with the platform key
   * and named as this stack reads it.
   */
  readonly artifactBucket: s3.IBucket;
  /** Where builds push. */
  readonly repository: ecr.IRepository;
  /** Checks a pushed image and makes it a version; reports to the pipeline's job. */
  readonly register: lambda.IFunction;
  readonly builder: BuilderSource;
  readonly logRetentionDays: number;
}

/**
 * The one pipeline that runs every algorithm build (CodePipeline V2). An execution is started
 * with the build's source object as an `S3_OBJECT_KEY` override and the variables
 * `ALGORITHM_ID`, `BUILD_ID` and `DOCKERFILE`; it copies the object (Context), runs the builder in
 * CodeBuild, which pushes the image and exports it by digest (Build), and invokes the register
 * function with the ids and the image (Register). Executions run in PARALLEL: in the default
 * SUPERSEDED mode a newer build would cancel one still waiting, whoever pushed it.
 */
export class AlgorithmBuilds extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  readonly project: BuildProject;
  readonly artifactBucket: s3.IBucket;
  /** The role of the source action, which reads the build contexts. */
  readonly contextRole: iam.Role;

  constructor(scope: Construct, id: string, props: AlgorithmBuildsProps) {
    super(scope, id);
    const { names, settings } = props;
    this.artifactBucket = props.artifactBucket;
    const builder = new BuilderAsset(this, 'Builder', { stage: props.builder.stage });
    this.project = new BuildProject(this, 'Build', {
      projectName: names.project,
      logGroupName: props.logGroupName,
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.platformKey,
      computeType: settings.computeType,
      timeoutMinutes: settings.timeoutMinutes,
      buildspec: props.builder.buildspec,
      builder: builder.asset,
      builderAssetVariable: props.builder.assetVariable,
      repository: props.repository,
      artifactBucket: this.artifactBucket,
      environment: {
        [BUILDER_ENVIRONMENT.repository]: props.repository.repositoryUri,
        [BUILDER_ENVIRONMENT.engine]: 'docker',
        [BUILDER_ENVIRONMENT.pullNever]: 'false',
        [BUILDER_ENVIRONMENT.push]: 'true',
        ...BUILD_LIMITS.variables(props.limits),
      },
    });

    const pipelineRole = new iam.Role(this, 'PipelineRole', {
      assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com'),
      description: 'The algorithm build pipeline: assumes the roles of its actions',
    });
    // Each action runs under a role of its own that only the pipeline's role may assume.
    const actionRole = (roleId: string, description: string) => {
      const role = new iam.Role(this, roleId, {
        assumedBy: new iam.ArnPrincipal(pipelineRole.roleArn),
        description,
      });
      acknowledgeInlinePolicy(role);
      return role;
    };
    this.contextRole = actionRole(
      'ContextRole',
      "The build pipeline's source action: copies a build context into the artifact bucket",
    );
    this.grantContextCopy(props.imagingBucket, props.platformKey);

    const variable = (variableName: string, description: string, defaultValue?: string) =>
      new codepipeline.Variable({ variableName, description, defaultValue });
    const algorithmId = variable(BUILD_PIPELINE.variables.algorithmId, 'The algorithm the build is of');
    const buildId = variable(BUILD_PIPELINE.variables.buildId, 'The build');
    const dockerfile = variable(
      BUILD_PIPELINE.variables.dockerfile,
      "The Dockerfile's path inside the build context",
      'Dockerfile',
    );
    const context = new codepipeline.Artifact('Context');
    const build = new actions.CodeBuildAction({
      actionName: BUILD_PIPELINE.buildAction,
      project: this.project.project,
      input: context,
      variablesNamespace: BUILD_PIPELINE.buildNamespace,
      role: actionRole('BuildActionRole', "The build pipeline's build action: runs the build project"),
      environmentVariables: {
        [BUILD_PIPELINE.variables.algorithmId]: { value: algorithmId.reference() },
        [BUILD_PIPELINE.variables.buildId]: { value: buildId.reference() },
        [BUILDER_ENVIRONMENT.dockerfile]: { value: dockerfile.reference() },
        [BUILDER_ENVIRONMENT.tag]: { value: BUILD_IMAGE_TAGS.candidate(buildId.reference()) },
      },
    });
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: names.pipeline,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.PARALLEL,
      role: pipelineRole,
      artifactBucket: this.artifactBucket,
      crossAccountKeys: false,
      restartExecutionOnUpdate: false,
      variables: [algorithmId, buildId, dockerfile],
      stages: [
        {
          stageName: BUILD_PIPELINE.sourceAction,
          actions: [
            new ContextSourceAction({
              actionName: BUILD_PIPELINE.sourceAction,
              bucket: props.imagingBucket,
              // No build's source object has this key (`buildSourceKey` nests two folders deeper),
              // so an execution started without an override fails at once.
              bucketKey: `${BUILDS_PREFIX}placeholder.zip`,
              output: context,
              // CDK's grants (the placeholder's object) are replaced by `grantContextCopy`.
              role: this.contextRole.withoutPolicyUpdates(),
            }),
          ],
        },
        { stageName: BUILD_PIPELINE.buildAction, actions: [build] },
        {
          stageName: BUILD_PIPELINE.registerAction,
          actions: [
            new actions.LambdaInvokeAction({
              actionName: BUILD_PIPELINE.registerAction,
              lambda: props.register,
              role: actionRole(
                'RegisterActionRole',
                "The build pipeline's register action: invokes the register function",
              ),
              userParameters: {
                algorithmId: algorithmId.reference(),
                buildId: buildId.reference(),
                image: build.variable(BUILD_IMAGE_VARIABLE),
              },
            }),
          ],
        },
      ],
    });
    acknowledgeInlinePolicy(pipelineRole);
    this.acknowledgeActionGrants(pipelineRole, props.register);
  }

  /** What CodePipeline's actions grant themselves, as cdk-nag finds it. */
  private acknowledgeActionGrants(pipelineRole: iam.Role, register: lambda.IFunction): void {
    const artifacts =
      "CodePipeline's grants on the artifact bucket, which is the pipeline's own and holds only its artifacts, and on its key through them.";
    acknowledge(
      pipelineRole,
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: artifacts,
      })),
      ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: artifacts,
      })),
    );
    acknowledgeWildcard(pipelineRole, this.artifactBucket.arnForObjects('*'), artifacts);
    const invoker = this.node.findChild('RegisterActionRole') as iam.Role;
    acknowledgeWildcard(
      invoker,
      '*',
      'lambda:ListFunctions, which the Lambda invoke action grants, supports no resource-level permission; it lists functions and invokes none.',
    );
    acknowledgeWildcard(
      invoker,
      `${register.functionArn}:*`,
      'The versions and aliases of the register function, which the Lambda invoke action grants with the function; the role invokes nothing else.',
    );
    acknowledgeWildcard(
      register,
      '*',
      'codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level permission; a job id is only valid for the action that invoked the function.',
    );
  }

  /**
   * The source action reads build contexts (`builds/*` of the imaging bucket, any version) and
   * writes their copies into the artifact bucket; both are encrypted with the platform key.
   */
  private grantContextCopy(imagingBucket: s3.IBucket, key: kms.IKey): void {
    const role = this.contextRole;
    const allow = (actions: string[], resources: string[], conditions?: iam.Conditions) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const contexts = imagingBucket.arnForObjects(`${BUILDS_PREFIX}*`);
    const artifacts = this.artifactBucket.arnForObjects('*');
    allow(['s3:GetObject', 's3:GetObjectVersion'], [contexts]);
    allow(['s3:GetBucketVersioning', 's3:GetBucketLocation', 's3:GetBucketAcl'], [imagingBucket.bucketArn]);
    allow(['s3:PutObject', 's3:AbortMultipartUpload'], [artifacts]);
    allow(['kms:Decrypt', 'kms:GenerateDataKey'], [key.keyArn], {
      StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
    });
    acknowledgeWildcard(
      role,
      contexts,
      'Each execution names its build context at start (an S3_OBJECT_KEY override), so the role reads any object under builds/, which holds build contexts only.',
    );
    acknowledgeWildcard(
      role,
      artifacts,
      "CodePipeline names each artifact per execution; the bucket is the pipeline's own and the role may only write to it.",
    );
  }
}
