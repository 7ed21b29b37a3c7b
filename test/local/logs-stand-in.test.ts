import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { LocalLogEvent, startLogsStandIn } from '../../local/services/logs';
import { LocalLogStreams } from '../../local/services/log-streams';
import { RunningService } from '../../local/services/running-service';
import { freePorts } from '../helpers/free-ports';

const MiB = 1024 * 1024;
const limits = { streamBytes: 1 * MiB, totalBytes: 3 * MiB };
/** A line of about 1 KiB, numbered so that what is kept can be told apart. */
const line = (stream: string, n: number): LocalLogEvent => ({
  timestamp: 1_700_000_000_000 + n,
  message: `${stream} line ${n} `.padEnd(500, 'x'),
});
const numbers = (events: readonly LocalLogEvent[] | undefined) =>
  (events ?? []).map((e) => Number(/ line (\d+) /.exec(e.message)![1]));

let service: RunningService;
let logs: CloudWatchLogsClient;
let store: LocalLogStreams<LocalLogEvent>;

beforeAll(async () => {
  const [port] = await freePorts(1);
  store = new LocalLogStreams<LocalLogEvent>(limits);
  service = await startLogsStandIn({ host: '127.0.0.1', port, events: (_, stream) => store.get(stream) });
  logs = new CloudWatchLogsClient({
    region: 'eu-central-1',
    endpoint: service.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  logs?.destroy();
  await service?.stop();
});

test('a stream written far past its bound keeps only its newest lines, and they read', async () => {
  // 50 MiB into a stream bounded at 1 MiB.
  const count = 50 * 1024;
  for (let n = 0; n < count; n++) store.append('chatty', line('chatty', n));
  const kept = numbers(store.get('chatty'));
  expect(store.keptBytes).toBeLessThanOrEqual(limits.streamBytes);
  expect(kept.length).toBeLessThan(1100);
  // The newest, in order, with nothing missing between them.
  expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => count - kept.length + i));

  const { events } = await logs.send(
    new GetLogEventsCommand({
      logGroupName: 'jobs',
      logStreamName: 'chatty',
      limit: 500,
      startFromHead: false,
    }),
  );
  expect(numbers(events as LocalLogEvent[])).toEqual(kept.slice(-500));
});

test('streams together past the total bound lose the oldest lines of all first', async () => {
  // Three jobs of 20 MiB each, one after another, then a fourth that writes 100 lines.
  for (const stream of ['job-1', 'job-2', 'job-3']) {
    for (let n = 0; n < 20 * 1024; n++) store.append(stream, line(stream, n));
  }
  store.create('job-4');
  expect(store.get('job-4')).toEqual([]);
  for (let n = 0; n < 100; n++) store.append('job-4', line('job-4', n));

  expect(store.keptBytes).toBeLessThanOrEqual(limits.totalBytes);
  // The earliest streams went first: `chatty`, then the start of job-1.
  expect(store.get('chatty')).toEqual([]);
  const first = numbers(store.get('job-1'));
  expect(first.length).toBeLessThan(numbers(store.get('job-2')).length);
  expect(first.at(-1)).toBe(20 * 1024 - 1);
  for (const stream of ['job-2', 'job-3']) expect(numbers(store.get(stream)).at(-1)).toBe(20 * 1024 - 1);
  expect(numbers(store.get('job-4'))).toEqual(Array.from({ length: 100 }, (_, n) => n));

  const { events } = await logs.send(
    new GetLogEventsCommand({ logGroupName: 'jobs', logStreamName: 'job-4', startFromHead: true }),
  );
  expect(numbers(events as LocalLogEvent[])).toEqual(numbers(store.get('job-4')));
});

test('a stream never written is not there', async () => {
  expect(store.get('never')).toBeUndefined();
  await expect(
    logs.send(new GetLogEventsCommand({ logGroupName: 'jobs', logStreamName: 'never' })),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});
