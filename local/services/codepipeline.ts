import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { LocalBuildPipeline, PipelineError } from '../builds/build-pipeline';
import { PipelineJobError } from '../builds/pipeline-jobs';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';

type Body = Record<string, unknown>;

/**
 * CodePipeline's and CodeBuild's JSON endpoints for local mode, on one port: the operations the
 * platform calls on the build pipeline (`CodePipeline_20150709.*`) and on its project's builds
 * (`CodeBuild_20161006.StopBuild`). Handlers reach it through AWS_ENDPOINT_URL_CODEPIPELINE and
 * AWS_ENDPOINT_URL_CODEBUILD; local IAM checks each request first.
 */
export async function startCodePipelineStandIn(options: {
  host: string;
  port: number;
  pipeline: LocalBuildPipeline;
  guard?: RequestGuard;
}): Promise<RunningService> {
  const { pipeline } = options;
  const named = (body: Body) => {
    if (body.name !== pipeline.name && body.pipelineName !== pipeline.name) {
      throw new PipelineError(
        'PipelineNotFoundException',
        `Account '000000000000' does not have a pipeline with name '${String(body.name ?? body.pipelineName)}'`,
      );
    }
  };
  const operations: Record<string, (body: Body) => unknown> = {
    'CodePipeline_20150709.StartPipelineExecution': (body) => {
      named(body);
      return {
        pipelineExecutionId: pipeline.start({
          variables: body.variables as { name?: string; value?: string }[] | undefined,
          sourceRevisions: body.sourceRevisions as { actionName?: string }[] | undefined,
          clientRequestToken: body.clientRequestToken as string | undefined,
        }),
      };
    },
    'CodePipeline_20150709.StopPipelineExecution': (body) => {
      named(body);
      const id = String(body.pipelineExecutionId ?? '');
      pipeline.stop(id, body.abandon === true, body.reason as string | undefined);
      return { pipelineExecutionId: id };
    },
    'CodePipeline_20150709.GetPipelineExecution': (body) => {
      named(body);
      const execution = pipeline.get(String(body.pipelineExecutionId ?? ''));
      return {
        pipelineExecution: {
          pipelineName: pipeline.name,
          pipelineVersion: 1,
          pipelineExecutionId: execution.id,
          status: execution.status,
          ...(execution.statusSummary && { statusSummary: execution.statusSummary }),
          executionMode: 'PARALLEL',
          executionType: 'STANDARD',
          artifactRevisions: execution.sourceKey
            ? [{ name: 'Context', revisionId: execution.sourceKey }]
            : [],
          variables: Object.entries(execution.variables).map(([name, resolvedValue]) => ({
            name,
            resolvedValue,
          })),
        },
      };
    },
    'CodePipeline_20150709.PutJobSuccessResult': (body) => {
      pipeline.answer(String(body.jobId ?? ''), { succeeded: true });
      return {};
    },
    'CodePipeline_20150709.PutJobFailureResult': (body) => {
      const details = (body.failureDetails ?? {}) as { type?: string; message?: string };
      if (!details.type || !details.message) {
        throw new PipelineError('ValidationException', 'failureDetails needs a type and a message');
      }
      pipeline.answer(String(body.jobId ?? ''), {
        succeeded: false,
        type: details.type,
        message: details.message,
      });
      return {};
    },
    'CodeBuild_20161006.StopBuild': (body) => {
      const build = pipeline.stopBuild(String(body.id ?? ''));
      if (!build) throw new PipelineError('ResourceNotFoundException', `Build ${String(body.id)} not found`);
      if (build.ended) {
        throw new PipelineError(
          'InvalidInputException',
          `Build ${build.id} is already ${build.ended.status}`,
        );
      }
      return {
        build: { id: build.id, arn: build.arn, projectName: build.project, currentPhase: 'STOPPING' },
      };
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let status = 200;
      let answer: unknown;
      try {
        const operation = operations[target];
        if (req.method !== 'POST' || !operation) {
          throw new PipelineError(
            'UnknownOperationException',
            `${target || '(no operation)'} is not supported locally`,
          );
        }
        answer = operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Body);
      } catch (err) {
        status = 400;
        const type =
          err instanceof PipelineError || err instanceof PipelineJobError ? err.type : 'ValidationException';
        answer = { __type: type, message: (err as Error).message };
        res.setHeader('x-amzn-errortype', type);
      }
      res
        .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() })
        .end(JSON.stringify(answer));
    });
  });
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);
  const url = `http://${options.host}:${options.port}`;
  return {
    env: { AWS_ENDPOINT_URL_CODEPIPELINE: url, AWS_ENDPOINT_URL_CODEBUILD: url },
    stop: async () => {
      await close(server);
      await pipeline.close();
    },
  };
}
