import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import { Construct } from 'constructs';

/**
 * An S3 source action whose object key each execution names, with a source revision override of
 * type `S3_OBJECT_KEY` in StartPipelineExecution: CodePipeline refuses that override unless the
 * action allows it (`AllowOverrideForS3ObjectKey`), which CDK's action does not set. It never
 * starts the pipeline itself (`S3Trigger.NONE`): the configured key is a placeholder.
 */
export class ContextSourceAction extends actions.S3SourceAction {
  constructor(props: Omit<actions.S3SourceActionProps, 'trigger'>) {
    super({ ...props, trigger: actions.S3Trigger.NONE });
  }

  protected bound(
    scope: Construct,
    stage: codepipeline.IStage,
    options: codepipeline.ActionBindOptions,
  ): codepipeline.ActionConfig {
    const config = super.bound(scope, stage, options);
    return { configuration: { ...config.configuration, AllowOverrideForS3ObjectKey: true } };
  }
}
