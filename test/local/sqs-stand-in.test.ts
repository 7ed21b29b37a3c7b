import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsStandIn, startSqsStandIn } from '../../local/services/sqs';
import { freePorts } from '../helpers/free-ports';

let queues: SqsStandIn;
let sqs: SQSClient;
let url: string;

beforeAll(async () => {
  const [port] = await freePorts(1);
  queues = await startSqsStandIn({
    host: '127.0.0.1',
    port,
    queues: [
      {
        name: 'work',
        visibilityTimeoutSeconds: 30,
        deadLetter: { queueName: 'work-dead', maxReceiveCount: 2 },
      },
      { name: 'work-dead', visibilityTimeoutSeconds: 30 },
    ],
  });
  // The SDK checks the MD5 of every body sent and received, so these calls also check the stand-in's digests.
  sqs = new SQSClient({
    region: 'eu-central-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  url = queues.queueUrl('work');
});

afterAll(async () => {
  sqs.destroy();
  await queues.stop();
});

const receive = (visibility = 30) =>
  sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: visibility }),
  );

describe('local SQS', () => {
  test('a received message stays hidden until deleted', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"imageId":"a"}' }));
    const { Messages } = await receive();
    expect(Messages?.map((m) => m.Body)).toEqual(['{"imageId":"a"}']);
    expect((await receive()).Messages).toEqual([]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: Messages![0].ReceiptHandle }));
    expect(queues.messages('work')).toEqual([]);
  });

  test('a message not deleted comes back, and after the last try moves to the dead-letter queue', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'crashing' }));
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { Messages } = await receive();
      expect(Messages?.[0].Attributes?.ApproximateReceiveCount).toBe(String(attempt));
      // A worker that dies leaves the message; its visibility timeout runs out.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: Messages![0].ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect((await receive()).Messages).toEqual([]);
    expect(queues.messages('work')).toEqual([]);
    expect(queues.messages('work-dead').map((m) => m.body)).toEqual(['crashing']);
  });

  test('long polling returns as soon as a message arrives', async () => {
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    const started = Date.now();
    const { Messages } = await polling;
    expect(Messages?.[0].Body).toBe('late');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('an unknown queue is refused by name', async () => {
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: url.replace('work', 'nope'), MessageBody: 'x' })),
    ).rejects.toThrow('The specified queue does not exist.');
  });
});
