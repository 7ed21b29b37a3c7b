import {
  CodePipelineClient,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { CodeBuildClient, StopBuildCommand } from '@aws-sdk/client-codebuild';
import { BUILD_PIPELINE, BUILD_PIPELINE_NAME } from '../contracts/builds';
import { buildSourceKey } from '../contracts/bucket-layout';
import { logger } from '../core/logger';
import { BuildRecord } from './build-record';

/** What CodePipeline answers for an execution that ended, or is being stopped, already. */
const STOPPED_ALREADY = new Set(['PipelineExecutionNotStoppableException', 'DuplicatedStopRequestException']);

let codePipeline: CodePipelineClient | undefined;
let codeBuild: CodeBuildClient | undefined;
/** The pipeline's client, also for the results of its jobs. */
export const pipelineClient = () => (codePipeline ??= new CodePipelineClient({}));
const buildClient = () => (codeBuild ??= new CodeBuildClient({}));

/**
 * Starts the pipeline on a build's source object, with the build's variables. The build's id is
 * the request token, so a start repeated for the same build gets the same execution.
 */
export async function startBuildExecution(build: BuildRecord): Promise<string> {
  const { buildPipelineName } = BUILD_PIPELINE_NAME.read();
  const { variables } = BUILD_PIPELINE;
  const started = await pipelineClient().send(
    new StartPipelineExecutionCommand({
      name: buildPipelineName,
      clientRequestToken: build.id,
      sourceRevisions: [
        {
          actionName: BUILD_PIPELINE.sourceAction,
          revisionType: 'S3_OBJECT_KEY',
          revisionValue: buildSourceKey(build.algorithmId, build.id),
        },
      ],
      variables: [
        { name: variables.algorithmId, value: build.algorithmId },
        { name: variables.buildId, value: build.id },
        { name: variables.dockerfile, value: build.dockerfile },
      ],
    }),
  );
  return started.pipelineExecutionId!;
}

/**
 * Stops what runs a build: its pipeline execution, abandoned (its running action is not waited
 * for), and its CodeBuild build where one is recorded. One already ended is left as it is.
 */
export async function stopBuildExecution(
  build: Pick<BuildRecord, 'id' | 'pipelineExecutionId' | 'codebuildId'>,
  reason: string,
): Promise<void> {
  const { buildPipelineName } = BUILD_PIPELINE_NAME.read();
  if (build.pipelineExecutionId) {
    await pipelineClient()
      .send(
        new StopPipelineExecutionCommand({
          pipelineName: buildPipelineName,
          pipelineExecutionId: build.pipelineExecutionId,
          abandon: true,
          reason: reason.slice(0, 200),
        }),
      )
      .catch((err: Error) => {
        if (!STOPPED_ALREADY.has(err.name)) throw err;
        logger.info('the pipeline execution had ended already', { buildId: build.id });
      });
  }
  if (build.codebuildId) {
    await buildClient()
      .send(new StopBuildCommand({ id: build.codebuildId }))
      .catch((err: Error) => {
        // A build that ended already cannot be stopped, which is what was wanted.
        if (err.name !== 'InvalidInputException') throw err;
      });
  }
}
