import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { close, listen } from '../port-check';
import { Delivery, USUAL_DELIVERY } from './delivery';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';
import { seededRandom } from './seeded-random';

/**
 * An SQS endpoint for local mode, speaking the JSON protocol of the AWS SDK v3 for the
 * operations the platform uses: send, receive (with long polling), delete, change visibility,
 * queue URL and attributes. It delivers as a standard queue does, not exactly once in order:
 *
 * - at least once: a message sent may be kept twice, and each copy is delivered and must be
 *   deleted on its own, as SQS's redundant copies sometimes deliver a message again;
 * - in no guaranteed order: a receive may hand out the visible messages in any order;
 * - a received message is hidden for the visibility timeout, then comes back, even while its
 *   first consumer still works on it; each receive gets a new receipt handle, and only the latest
 *   one deletes the message (an older one is accepted and deletes nothing, SQS's "might not be
 *   deleted");
 * - once received `maxReceiveCount` times, the next receive moves it to the dead-letter queue.
 *
 * How often it duplicates and reorders comes from a seed, so that a run can be repeated. Messages
 * are kept in `stateFile`, so that what was queued when local mode stopped is there at the next
 * start. No SQS emulator on npm runs on this Node.js with this protocol, so the handlers reach
 * this one through AWS_ENDPOINT_URL_SQS.
 */
export interface LocalQueueDefinition {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter?: { readonly queueName: string; readonly maxReceiveCount: number };
}

interface StoredMessage {
  /** This copy of the message. */
  readonly copy: string;
  /** The MessageId, shared by the copies of one message. */
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  /** The handle of the latest receive: the only one that deletes this copy. */
  receiptHandle?: string;
}

export interface SqsStandIn extends RunningService {
  queueUrl(name: string): string;
  /** Copies of messages in a queue, visible or not, oldest first. */
  messages(name: string): readonly { id: string; body: string; receiveCount: number; inFlight: boolean }[];
  /** The seed its deliveries follow. */
  readonly seed: number;
  /** Messages it kept twice since it started. */
  duplicated(): number;
  stop(): Promise<void>;
}

export interface SqsStandInOptions {
  readonly host: string;
  readonly port: number;
  readonly queues: readonly LocalQueueDefinition[];
  /**
   * How often it duplicates and reorders (a message's copies are delivered on their own; a receive
   * hands out the visible messages in a random order).
   * @default USUAL_DELIVERY with a random seed
   */
  readonly delivery?: Partial<Delivery>;
  /**
   * The file that keeps the messages across restarts.
   * @default - messages live in memory only
   */
  readonly stateFile?: string;
  /** Checks each request before the queue acts on it (local IAM). */
  readonly guard?: RequestGuard;
}

class QueueError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const ACCOUNT = '000000000000';
const MAX_VISIBILITY_SECONDS = 43_200;

export async function startSqsStandIn(options: SqsStandInOptions): Promise<SqsStandIn> {
  const base = `http://${options.host}:${options.port}`;
  const delivery: Delivery = { ...USUAL_DELIVERY, seed: randomInt(2 ** 31), ...options.delivery };
  // One stream per choice, each drawn only when it decides something, so that the same seed and
  // the same messages give the same deliveries however often consumers poll an empty queue.
  const duplicates = seededRandom(delivery.seed);
  const order = seededRandom(delivery.seed ^ 0x5bd1e995);
  const queues = new Map(
    options.queues.map((q) => [q.name, { definition: q, messages: [] as StoredMessage[] }]),
  );
  for (const [name, messages] of Object.entries(loadState(options.stateFile))) {
    queues.get(name)?.messages.push(...messages);
  }
  const urlOf = (name: string) => `${base}/${ACCOUNT}/${name}`;
  const queueAt = (url: unknown) => {
    const name = typeof url === 'string' ? url.split('/').pop()! : '';
    const queue = queues.get(name);
    if (!queue)
      throw new QueueError('com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  };
  let stopping = false;
  let duplicated = 0;

  let saving: NodeJS.Immediate | undefined;
  const save = () => {
    if (!options.stateFile) return;
    const state = Object.fromEntries([...queues].map(([name, queue]) => [name, queue.messages]));
    const temporary = `${options.stateFile}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(options.stateFile), { recursive: true });
    fs.writeFileSync(temporary, JSON.stringify(state));
    fs.renameSync(temporary, options.stateFile);
  };
  // Written once per turn of the event loop, however many messages moved in it.
  const changed = () => {
    saving ??= setImmediate(() => {
      saving = undefined;
      save();
    });
  };

  /** The copy a receipt handle names, and whether the handle is still its latest. */
  const handleOf = (queueName: string, handle: unknown) => {
    const [name, copy] =
      typeof handle === 'string' ? Buffer.from(handle, 'base64url').toString('utf8').split('\n') : [];
    if (name !== queueName || !copy) {
      throw new QueueError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
    }
    const message = queues.get(queueName)!.messages.find((m) => m.copy === copy);
    return { message, latest: message !== undefined && message.receiptHandle === handle };
  };

  const receive = (input: Record<string, unknown>) => {
    const queue = queueAt(input.QueueUrl);
    const max = Number(input.MaxNumberOfMessages ?? 1);
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw new QueueError(
        'com.amazonaws.sqs#InvalidParameterValue',
        'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
      );
    }
    const visibility = Number(input.VisibilityTimeout ?? queue.definition.visibilityTimeoutSeconds);
    const now = Date.now();
    let visible = queue.messages.filter((m) => m.visibleAt <= now);
    if (visible.length > 1 && order.chance(delivery.reorderRate)) visible = order.shuffled(visible);
    const taken: StoredMessage[] = [];
    for (const message of visible) {
      if (taken.length >= max) break;
      const redrive = queue.definition.deadLetter;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        // Received as often as allowed without being deleted: off to the dead-letter queue.
        queue.messages.splice(queue.messages.indexOf(message), 1);
        queueAt(urlOf(redrive.queueName)).messages.push({
          ...message,
          receiveCount: 0,
          firstReceivedAt: undefined,
          receiptHandle: undefined,
          visibleAt: 0,
        });
        continue;
      }
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibility * 1000;
      message.receiptHandle = Buffer.from(
        [queue.definition.name, message.copy, randomBytes(12).toString('hex')].join('\n'),
      ).toString('base64url');
      taken.push(message);
    }
    if (taken.length > 0) changed();
    return taken.map((m) => ({
      MessageId: m.id,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: md5(m.body),
      Body: m.body,
      Attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
        SenderId: ACCOUNT,
      },
    }));
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown | Promise<unknown>> = {
    GetQueueUrl: (input) => {
      if (!queues.has(String(input.QueueName))) {
        throw new QueueError('com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
      }
      return { QueueUrl: urlOf(String(input.QueueName)) };
    },
    SendMessage: (input) => {
      const queue = queueAt(input.QueueUrl);
      if (typeof input.MessageBody !== 'string' || input.MessageBody.length === 0) {
        throw new QueueError('com.amazonaws.sqs#InvalidParameterValue', 'MessageBody is required.');
      }
      const id = randomUUID();
      const sentAt = Date.now();
      const copies = duplicates.chance(delivery.duplicateRate) ? 2 : 1;
      if (copies > 1) duplicated++;
      for (let i = 0; i < copies; i++) {
        queue.messages.push({
          copy: randomUUID(),
          id,
          body: input.MessageBody,
          sentAt,
          receiveCount: 0,
          visibleAt: sentAt + Number(input.DelaySeconds ?? 0) * 1000,
        });
      }
      changed();
      return { MessageId: id, MD5OfMessageBody: md5(input.MessageBody) };
    },
    ReceiveMessage: async (input) => {
      const deadline = Date.now() + Math.min(Number(input.WaitTimeSeconds ?? 0), 20) * 1000;
      for (;;) {
        const messages = receive(input);
        if (messages.length > 0 || Date.now() >= deadline || stopping) return { Messages: messages };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    DeleteMessage: (input) => {
      const queue = queueAt(input.QueueUrl);
      const { message, latest } = handleOf(queue.definition.name, input.ReceiptHandle);
      // A handle from an earlier receive is accepted and deletes nothing, as SQS may do.
      if (message && latest) {
        queue.messages.splice(queue.messages.indexOf(message), 1);
        changed();
      }
      return {};
    },
    ChangeMessageVisibility: (input) => {
      const queue = queueAt(input.QueueUrl);
      const { message, latest } = handleOf(queue.definition.name, input.ReceiptHandle);
      const seconds = Number(input.VisibilityTimeout);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
        throw new QueueError(
          'com.amazonaws.sqs#InvalidParameterValue',
          `Value ${String(input.VisibilityTimeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_SECONDS}.`,
        );
      }
      if (!message || !latest || message.visibleAt <= Date.now()) {
        throw new QueueError(
          'com.amazonaws.sqs#InvalidParameterValue',
          `Value ${String(input.ReceiptHandle)} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
        );
      }
      message.visibleAt = Date.now() + seconds * 1000;
      changed();
      return {};
    },
    GetQueueAttributes: (input) => {
      const queue = queueAt(input.QueueUrl);
      const now = Date.now();
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
          ApproximateNumberOfMessagesNotVisible: String(
            queue.messages.filter((m) => m.visibleAt > now).length,
          ),
        },
      };
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = operations[target.replace(/^AmazonSQS\./, '')];
        try {
          if (!target.startsWith('AmazonSQS.') || !operation) {
            throw new QueueError(
              'com.amazonaws.sqs#UnsupportedOperation',
              `${target || 'this operation'} is not supported locally`,
            );
          }
          const body = await operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify(body));
        } catch (err) {
          const type = err instanceof QueueError ? err.type : 'com.amazonaws.sqs#InvalidParameterValue';
          res.writeHead(400, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-query-error': `${type.split('#')[1]};Sender`,
          });
          res.end(JSON.stringify({ __type: type, message: (err as Error).message }));
        }
      })();
    });
  });
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);

  return {
    env: { AWS_ENDPOINT_URL_SQS: base },
    seed: delivery.seed,
    duplicated: () => duplicated,
    queueUrl: (name) => {
      if (!queues.has(name)) throw new Error(`no local queue ${name}`);
      return urlOf(name);
    },
    messages: (name) => {
      const now = Date.now();
      return (queues.get(name)?.messages ?? []).map(({ id, body, receiveCount, visibleAt }) => ({
        id,
        body,
        receiveCount,
        inFlight: visibleAt > now && receiveCount > 0,
      }));
    },
    stop: async () => {
      stopping = true;
      await close(server);
      if (saving) clearImmediate(saving);
      save();
    },
  };
}

/** The messages kept by an earlier run, by queue. */
function loadState(stateFile: string | undefined): Record<string, StoredMessage[]> {
  if (!stateFile || !fs.existsSync(stateFile)) return {};
  return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, StoredMessage[]>;
}
