import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pollQueue, QueueEventSource } from '../../local/functions/queue-poller';
import { CHAOS_DELIVERY, Delivery, EXACT_DELIVERY } from '../../local/services/delivery';
import { SqsStandIn, startSqsStandIn } from '../../local/services/sqs';
import { freePorts } from '../helpers/free-ports';

const started: { queues: SqsStandIn; sqs: SQSClient }[] = [];

/** A stand-in with a queue `work` (and its dead-letter queue `work-dead`) and a client for it. */
async function standIn(
  options: { delivery?: Delivery; visibilityTimeoutSeconds?: number; stateFile?: string } = {},
) {
  const [port] = await freePorts(1);
  const queues = await startSqsStandIn({
    host: '127.0.0.1',
    port,
    delivery: options.delivery ?? { seed: 1, ...EXACT_DELIVERY },
    stateFile: options.stateFile,
    queues: [
      {
        name: 'work',
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
        deadLetter: { queueName: 'work-dead', maxReceiveCount: 2 },
      },
      { name: 'work-dead', visibilityTimeoutSeconds: 30 },
    ],
  });
  // The SDK checks the MD5 of every body sent and received, so these calls also check the stand-in's digests.
  const sqs = new SQSClient({
    region: 'eu-central-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  started.push({ queues, sqs });
  const url = queues.queueUrl('work');
  const send = (body: string) => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  const receive = async (visibility?: number) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: visibility }),
      )
    ).Messages ?? [];
  const remove = (handle: string | undefined) =>
    sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));
  return { queues, sqs, url, send, receive, remove };
}

afterAll(async () => {
  for (const { queues, sqs } of started) {
    sqs.destroy();
    await queues.stop();
  }
});

/** Resolves when `check` holds, polling. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} did not happen`);
}

describe('local SQS', () => {
  test('a received message stays hidden until deleted', async () => {
    const q = await standIn();
    await q.send('{"imageId":"a"}');
    const messages = await q.receive();
    expect(messages.map((m) => m.Body)).toEqual(['{"imageId":"a"}']);
    expect(await q.receive()).toEqual([]);
    await q.remove(messages[0].ReceiptHandle);
    expect(q.queues.messages('work')).toEqual([]);
  });

  test('a message not deleted comes back, and after the last try moves to the dead-letter queue', async () => {
    const q = await standIn();
    await q.send('crashing');
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [message] = await q.receive();
      expect(message.Attributes?.ApproximateReceiveCount).toBe(String(attempt));
      // A worker that dies leaves the message; its visibility timeout runs out.
      await q.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: q.url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(await q.receive()).toEqual([]);
    expect(q.queues.messages('work')).toEqual([]);
    expect(q.queues.messages('work-dead').map((m) => m.body)).toEqual(['crashing']);
  });

  test('long polling returns as soon as a message arrives', async () => {
    const q = await standIn();
    const polling = q.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 5 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await q.send('late');
    const { Messages } = await polling;
    expect(Messages?.[0].Body).toBe('late');
  });

  test('an unknown queue is refused by name', async () => {
    const q = await standIn();
    await expect(
      q.sqs.send(new SendMessageCommand({ QueueUrl: q.url.replace('work', 'nope'), MessageBody: 'x' })),
    ).rejects.toThrow('The specified queue does not exist.');
  });

  test('a message whose visibility timeout runs out reaches a second consumer while the first holds it; only the latest receipt deletes it', async () => {
    const q = await standIn({ visibilityTimeoutSeconds: 1 });
    await q.send('slow work');
    const [first] = await q.receive();
    let second: Awaited<ReturnType<typeof q.receive>> = [];
    await until(async () => (second = await q.receive()).length > 0, 'the redelivery');
    expect(second[0]).toMatchObject({ MessageId: first.MessageId, Body: 'slow work' });
    expect(second[0].Attributes?.ApproximateReceiveCount).toBe('2');
    expect(second[0].ReceiptHandle).not.toBe(first.ReceiptHandle);

    // The first consumer ends and deletes with its receipt: accepted, and the message stays.
    await q.remove(first.ReceiptHandle);
    expect(q.queues.messages('work')).toMatchObject([{ body: 'slow work', inFlight: true }]);
    await expect(
      q.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: q.url,
          ReceiptHandle: first.ReceiptHandle,
          VisibilityTimeout: 60,
        }),
      ),
    ).rejects.toThrow('Message does not exist or is not available for visibility timeout change');
    await q.remove(second[0].ReceiptHandle);
    expect(q.queues.messages('work')).toEqual([]);
  });

  test('a receipt handle it did not issue is refused', async () => {
    const q = await standIn();
    await expect(q.remove('not-a-handle')).rejects.toThrow('The receipt handle is not valid.');
  });

  test('with chaos, messages are duplicated and handed out of order, the same way for the same seed', async () => {
    const run = async (seed: number) => {
      const q = await standIn({ delivery: { seed, ...CHAOS_DELIVERY } });
      for (let i = 0; i < 20; i++) await q.send(`message ${i}`);
      const received: string[] = [];
      for (let messages = await q.receive(); messages.length > 0; messages = await q.receive()) {
        received.push(...messages.map((m) => m.Body!));
        for (const m of messages) await q.remove(m.ReceiptHandle);
      }
      expect(q.queues.messages('work')).toEqual([]);
      return received;
    };
    const received = await run(7);
    const sent = Array.from({ length: 20 }, (_, i) => `message ${i}`);
    // At least once: every message came, some of them twice.
    expect([...new Set(received)].sort()).toEqual([...sent].sort());
    expect(received.length).toBeGreaterThan(sent.length);
    // In no guaranteed order.
    expect([...new Set(received)]).not.toEqual(sent);
    expect(await run(7)).toEqual(received);
  });

  test('keeps its messages, received or not, across a restart', async () => {
    const stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-state-')), 'messages.json');
    const before = await standIn({ stateFile });
    await before.send('waiting');
    await before.send('held');
    await before.send('done');
    const messages = await before.receive();
    const held = messages.find((m) => m.Body === 'held')!;
    for (const m of messages.filter((m) => m !== held)) {
      await before.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: before.url,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    await before.remove(messages.find((m) => m.Body === 'done')!.ReceiptHandle);
    await before.queues.stop();

    const after = await standIn({ stateFile });
    expect(after.queues.messages('work')).toMatchObject([
      { body: 'waiting', inFlight: false, receiveCount: 1 },
      { body: 'held', inFlight: true, receiveCount: 1 },
    ]);
    // The receipt of the run before still deletes what it received.
    await after.remove(held.ReceiptHandle);
    expect((await after.receive()).map((m) => m.Body)).toEqual(['waiting']);
  });
});

describe("Lambda's SQS event source, locally", () => {
  const source = (url: string, options: Partial<QueueEventSource> = {}): QueueEventSource => ({
    queueUrl: url,
    batchSize: 10,
    reportBatchItemFailures: true,
    concurrency: 1,
    region: 'eu-central-1',
    ...options,
  });

  test('hands each batch to the function as the SQS event Lambda builds, and deletes it after success', async () => {
    const q = await standIn();
    await q.send('{"imageId":"a"}');
    const events: SQSEvent[] = [];
    const poller = pollQueue(q.sqs, source(q.url), async (event) => {
      events.push(event);
    });
    await until(() => events.length > 0 && q.queues.messages('work').length === 0, 'the delivery');
    await poller.stop();
    expect(events[0].Records).toMatchObject([
      {
        body: '{"imageId":"a"}',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-central-1:000000000000:work',
        awsRegion: 'eu-central-1',
        attributes: { ApproximateReceiveCount: '1', SenderId: '000000000000' },
      },
    ]);
    expect(Number(events[0].Records[0].attributes.SentTimestamp)).toBeGreaterThan(0);
  });

  test('keeps the messages that a partial batch response names, deletes the others', async () => {
    const q = await standIn();
    for (const body of ['good', 'bad', 'fine']) await q.send(body);
    let calls = 0;
    const poller = pollQueue(
      q.sqs,
      source(q.url, { batchSize: 3 }),
      async (event): Promise<SQSBatchResponse> => {
        calls++;
        const bad = event.Records.filter((r) => r.body === 'bad');
        return { batchItemFailures: bad.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    );
    await until(() => calls > 0 && q.queues.messages('work').length === 1, 'the batch');
    await poller.stop();
    expect(q.queues.messages('work')).toMatchObject([{ body: 'bad', inFlight: true }]);
  });

  test('a response naming a message that is not in the batch fails the whole batch, as Lambda does', async () => {
    const q = await standIn();
    for (const body of ['one', 'two']) await q.send(body);
    let calls = 0;
    const poller = pollQueue(q.sqs, source(q.url), async () => {
      calls++;
      return { batchItemFailures: [{ itemIdentifier: '' }] };
    });
    await until(() => calls > 0, 'the batch');
    await poller.stop();
    expect(
      q.queues
        .messages('work')
        .map((m) => m.body)
        .sort(),
    ).toEqual(['one', 'two']);
  });

  test('without reportBatchItemFailures a returned list is ignored: the whole batch is deleted', async () => {
    const q = await standIn();
    await q.send('reported');
    let calls = 0;
    const poller = pollQueue(q.sqs, source(q.url, { reportBatchItemFailures: false }), async (event) => {
      calls++;
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await until(() => calls > 0 && q.queues.messages('work').length === 0, 'the deletion');
    await poller.stop();
  });

  test('a function that fails leaves the batch to come back after the visibility timeout', async () => {
    const q = await standIn({ visibilityTimeoutSeconds: 1 });
    await q.send('flaky');
    const receives: string[] = [];
    const poller = pollQueue(q.sqs, source(q.url), async (event) => {
      receives.push(event.Records[0].attributes.ApproximateReceiveCount);
      if (receives.length === 1) throw new Error('the first try fails');
    });
    await until(() => q.queues.messages('work').length === 0, 'the second try');
    await poller.stop();
    expect(receives).toEqual(['1', '2']);
  });

  test('a message whose function outlives the visibility timeout reaches a second invocation while the first runs', async () => {
    const q = await standIn({ visibilityTimeoutSeconds: 1 });
    await q.send('long');
    const running: string[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const poller = pollQueue(q.sqs, source(q.url, { concurrency: 2 }), async (event) => {
      running.push(event.Records[0].messageId);
      // The first invocation runs until the second has the same message.
      if (running.length === 1) await finished;
    });
    await until(() => running.length === 2, 'the second invocation');
    expect(running[1]).toBe(running[0]);
    finish();
    await until(() => q.queues.messages('work').length === 0, 'the deletion');
    await poller.stop();
  });

  test('stopping abandons the invocation under way and gives its message back at once', async () => {
    const q = await standIn();
    await q.send('interrupted');
    let invoked = false;
    const poller = pollQueue(q.sqs, source(q.url), (_event, signal) => {
      invoked = true;
      // A sandbox that stops when the machine goes away.
      return new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new Error('stopped'))),
      );
    });
    await until(() => invoked, 'the invocation');
    await poller.stop();
    expect(q.queues.messages('work')).toMatchObject([
      { body: 'interrupted', inFlight: false, receiveCount: 1 },
    ]);
  });
});
