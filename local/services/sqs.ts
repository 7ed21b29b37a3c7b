import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';

/**
 * An SQS endpoint for local mode, speaking the JSON protocol of the AWS SDK v3 for the
 * operations the platform uses: send, receive (with long polling), delete, change visibility,
 * queue URL and attributes. Messages follow SQS's rules: a received message is invisible for
 * the visibility timeout and then comes back, and after `maxReceiveCount` receives it moves to
 * the dead-letter queue. No SQS emulator on npm runs on this Node.js with this protocol, so the
 * handlers reach this one through AWS_ENDPOINT_URL_SQS. Messages live in memory.
 */
export interface LocalQueueDefinition {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter?: { readonly queueName: string; readonly maxReceiveCount: number };
}

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface SqsStandIn extends RunningService {
  queueUrl(name: string): string;
  /** Messages in a queue, visible or not, oldest first. */
  messages(name: string): readonly { id: string; body: string; receiveCount: number }[];
  stop(): Promise<void>;
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

export async function startSqsStandIn(options: {
  host: string;
  port: number;
  queues: readonly LocalQueueDefinition[];
  /** Checks each request before the queue acts on it (local IAM). */
  guard?: RequestGuard;
}): Promise<SqsStandIn> {
  const base = `http://${options.host}:${options.port}`;
  const queues = new Map(
    options.queues.map((q) => [q.name, { definition: q, messages: [] as StoredMessage[] }]),
  );
  const urlOf = (name: string) => `${base}/000000000000/${name}`;
  const queueAt = (url: unknown) => {
    const name = typeof url === 'string' ? url.split('/').pop()! : '';
    const queue = queues.get(name);
    if (!queue)
      throw new QueueError('com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  };
  let stopping = false;

  const receive = (input: Record<string, unknown>) => {
    const queue = queueAt(input.QueueUrl);
    const max = Math.min(Number(input.MaxNumberOfMessages ?? 1), 10);
    const visibility = Number(input.VisibilityTimeout ?? queue.definition.visibilityTimeoutSeconds);
    const now = Date.now();
    const taken: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      const redrive = queue.definition.deadLetter;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        // Received as often as allowed without being deleted: off to the dead-letter queue.
        queue.messages.splice(queue.messages.indexOf(message), 1);
        queueAt(urlOf(redrive.queueName)).messages.push({ ...message, receiveCount: 0, visibleAt: 0 });
        continue;
      }
      message.receiveCount++;
      message.visibleAt = now + visibility * 1000;
      message.receiptHandle = randomUUID();
      taken.push(message);
    }
    return taken.map((m) => ({
      MessageId: m.id,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: md5(m.body),
      Body: m.body,
      Attributes: { ApproximateReceiveCount: String(m.receiveCount) },
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
      const message: StoredMessage = {
        id: randomUUID(),
        body: input.MessageBody,
        receiveCount: 0,
        visibleAt: Date.now() + Number(input.DelaySeconds ?? 0) * 1000,
      };
      queue.messages.push(message);
      return { MessageId: message.id, MD5OfMessageBody: md5(message.body) };
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
      const index = queue.messages.findIndex((m) => m.receiptHandle === input.ReceiptHandle);
      if (index === -1) {
        throw new QueueError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
      }
      queue.messages.splice(index, 1);
      return {};
    },
    ChangeMessageVisibility: (input) => {
      const message = queueAt(input.QueueUrl).messages.find((m) => m.receiptHandle === input.ReceiptHandle);
      if (!message)
        throw new QueueError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
      message.visibleAt = Date.now() + Number(input.VisibilityTimeout) * 1000;
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
    queueUrl: (name) => {
      if (!queues.has(name)) throw new Error(`no local queue ${name}`);
      return urlOf(name);
    },
    messages: (name) =>
      (queues.get(name)?.messages ?? []).map(({ id, body, receiveCount }) => ({ id, body, receiveCount })),
    stop: async () => {
      stopping = true;
      await close(server);
    },
  };
}
