import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { BUILD_PHASES, BUILDER_REPORT, BuildResult } from '../contracts/builds';

/** Lines of a build's log that its view shows. */
export const LOG_TAIL_LINES = 100;

let logs: CloudWatchLogsClient | undefined;
const client = () => (logs ??= new CloudWatchLogsClient({}));

/** The last `lines` lines of a stream of the build log group; none while it does not exist. */
export async function readLogTail(
  logGroupName: string,
  logStreamName: string,
  lines = LOG_TAIL_LINES,
): Promise<string[]> {
  try {
    const { events } = await client().send(
      new GetLogEventsCommand({ logGroupName, logStreamName, limit: lines, startFromHead: false }),
    );
    return (events ?? []).map((event) => (event.message ?? '').replace(/\r?\n$/, ''));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return [];
    throw err;
  }
}

/** The reason of the builder's last `BUILD_FAILED <reason>` line, if it wrote one. */
export function failureReason(lines: readonly string[]): string | undefined {
  const prefix = `${BUILDER_REPORT.failed} `;
  const line = [...lines].reverse().find((l) => l.startsWith(prefix));
  return line?.slice(prefix.length).trim() || undefined;
}

/** The builder's `BUILD_RESULT <json>`, if it wrote one that reads as a result. */
export function buildResult(lines: readonly string[]): BuildResult | undefined {
  const prefix = `${BUILDER_REPORT.result} `;
  const line = [...lines].reverse().find((l) => l.startsWith(prefix));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(line.slice(prefix.length)) as Partial<BuildResult>;
    if (typeof parsed.image !== 'string' || typeof parsed.digest !== 'string') return undefined;
    const phaseSeconds = Object.fromEntries(
      BUILD_PHASES.flatMap((phase) => {
        const seconds = parsed.phaseSeconds?.[phase];
        return typeof seconds === 'number' && Number.isFinite(seconds) ? [[phase, seconds]] : [];
      }),
    );
    return {
      image: parsed.image,
      digest: parsed.digest,
      sizeBytes: typeof parsed.sizeBytes === 'number' ? parsed.sizeBytes : 0,
      phaseSeconds,
    };
  } catch {
    return undefined;
  }
}
