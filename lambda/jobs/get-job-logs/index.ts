import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { forbidden } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { roleOf } from '../../algorithms/algorithm-record';
import { JOB_LOGS } from '../../contracts/job-queues';
import { getVisibleJob } from '../job-store';

parseEnvironment(operation);

const MAX_LINES = 500;
const logs = new CloudWatchLogsClient({});
const { jobLogGroup } = JOB_LOGS.read();

/**
 * `GET /v1/jobs/{jobId}/logs`: the last 500 lines of the job's container log, for editors of its
 * algorithm. The runner writes JSON lines `{ source, message }`; other lines count as stdout.
 */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const { job, algorithm } = await getVisibleJob(pathParameters.jobId, caller.userId);
  if (!algorithm || roleOf(algorithm, caller.userId) !== 'editor') {
    throw forbidden(`only editors of algorithm ${job.algorithmId} may read its jobs' logs`);
  }
  if (!job.logStreamName) return { status: 200, body: { lines: [] } };
  try {
    const { events } = await logs.send(
      new GetLogEventsCommand({
        logGroupName: jobLogGroup,
        logStreamName: job.logStreamName,
        limit: MAX_LINES,
        startFromHead: false,
      }),
    );
    const lines = (events ?? []).map((event) => {
      let source: 'stdout' | 'stderr' = 'stdout';
      let message = event.message ?? '';
      try {
        const parsed = JSON.parse(message) as { source?: string; message?: string };
        if (parsed.source === 'stderr' || parsed.source === 'stdout') {
          source = parsed.source;
          message = String(parsed.message ?? '');
        }
      } catch {
        // A line the runner did not write as JSON: shown as it is.
      }
      return { timestamp: new Date(event.timestamp ?? 0).toISOString(), source, message };
    });
    return { status: 200, body: { lines } };
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return { status: 200, body: { lines: [] } };
    throw err;
  }
});
