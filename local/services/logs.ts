import * as http from 'node:http';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';

/** A line as the job runner writes it to its log stream. */
export interface LocalLogEvent {
  readonly timestamp: number;
  readonly message: string;
}

/**
 * A CloudWatch Logs endpoint for local mode that answers GetLogEvents (JSON protocol) from the
 * lines the local jobs wrote, so that `GET /v1/jobs/{id}/logs` reads them as it reads
 * CloudWatch. Handlers reach it through AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
 */
export async function startLogsStandIn(options: {
  host: string;
  port: number;
  /**
   * The events of a stream of the job log group, oldest first, or undefined when there is none;
   * bounded as `LocalLogStreams` keeps them, so memory does not grow with what jobs print.
   */
  events: (logGroupName: string, logStreamName: string) => readonly LocalLogEvent[] | undefined;
  /** Checks each request before it is answered (local IAM). */
  guard?: RequestGuard;
}): Promise<RunningService> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'Logs_20140328.GetLogEvents') {
        answer(400, { __type: 'InvalidOperationException', message: `${target} is not supported locally` });
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        logGroupName?: string;
        logStreamName?: string;
        limit?: number;
        startFromHead?: boolean;
      };
      const events = options.events(input.logGroupName ?? '', input.logStreamName ?? '');
      if (!events) {
        answer(400, {
          __type: 'ResourceNotFoundException',
          message: 'The specified log stream does not exist.',
        });
        return;
      }
      const limit = Math.min(input.limit ?? 10_000, 10_000);
      const page = input.startFromHead ? events.slice(0, limit) : events.slice(-limit);
      answer(200, {
        events: page.map((e) => ({ ...e, ingestionTime: e.timestamp })),
        nextForwardToken: 'f/end',
        nextBackwardToken: 'b/start',
      });
    });
  });
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);
  return {
    env: { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: `http://${options.host}:${options.port}` },
    stop: () => close(server),
  };
}
