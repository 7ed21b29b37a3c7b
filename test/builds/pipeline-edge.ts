import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { LocalFunction } from '../../local/functions/local-function';
import { LocalPlatform } from '../../local/local-platform';

/** One JSON request that reached the edge: its `X-Amz-Target` and body. */
export interface EdgeRequest {
  readonly target: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * CodePipeline and CodeBuild on loopback, for the calls local mode has no stand-in for yet: each
 * JSON request is recorded and answered as the service answers it.
 */
export async function startPipelineEdge() {
  const requests: EdgeRequest[] = [];
  /** Builds whose start CodePipeline refuses, by their request token. */
  const refusedStarts = new Set<string>();
  let executions = 0;
  /** Runs before a StartPipelineExecution is answered: what the pipeline does meanwhile. */
  const beforeStartAnswer: { run?: (body: EdgeRequest['body']) => Promise<void> } = {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      requests.push({ target, body });
      const operation = target.slice(target.indexOf('.') + 1);
      if (operation === 'StartPipelineExecution' && refusedStarts.has(body.clientRequestToken)) {
        res
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(
            JSON.stringify({ __type: 'PipelineNotFoundException', message: 'The pipeline was not found' }),
          );
        return;
      }
      if (operation === 'StartPipelineExecution') await beforeStartAnswer.run?.(body);
      const answer =
        operation === 'StartPipelineExecution'
          ? { pipelineExecutionId: `execution-${++executions}` }
          : operation === 'StopPipelineExecution'
            ? { pipelineExecutionId: body.pipelineExecutionId }
            : operation === 'StopBuild'
              ? { build: { id: body.id, buildStatus: 'STOPPED' } }
              : {};
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    refusedStarts,
    beforeStartAnswer,
    /** The requests of one operation (`StartPipelineExecution`). */
    of: (operation: string) => requests.filter((r) => r.target.endsWith(`.${operation}`)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A handler of the platform in a sandbox of its own, with exactly its deployed environment (its
 * role's credentials, local mode's endpoints) and CodePipeline and CodeBuild at `edgeUrl`.
 */
export function functionAtEdge(
  platform: LocalPlatform,
  handler: string,
  edgeUrl: string,
  setUp: readonly string[] = [],
): LocalFunction {
  const environment = platform.functions.environments.get(handler);
  if (!environment) throw new Error(`no local function ${handler}`);
  return new LocalFunction({
    handler,
    environment: {
      ...environment,
      AWS_ENDPOINT_URL_CODEPIPELINE: edgeUrl,
      AWS_ENDPOINT_URL_CODEBUILD: edgeUrl,
    },
    timeoutSeconds: 120,
    setUp,
  });
}
