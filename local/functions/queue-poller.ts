import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunningService } from '../services/running-service';

/**
 * Lambda's SQS event source, for local mode: long-polls a queue, hands each message to the
 * handler as the SQS event Lambda would build, and deletes what the handler did not report as
 * failed. Failed messages come back after the visibility timeout, as in AWS.
 */
export function pollQueue(
  sqs: SQSClient,
  queueUrl: string,
  batchSize: number,
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void>,
): RunningService {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: 1,
          }),
        );
        if (Messages.length === 0) continue;
        const records = Messages.map(
          (m) =>
            ({
              messageId: m.MessageId!,
              receiptHandle: m.ReceiptHandle!,
              body: m.Body!,
              attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
              messageAttributes: {},
              md5OfBody: m.MD5OfBody!,
              eventSource: 'aws:sqs',
              eventSourceARN: queueUrl,
              awsRegion: 'local',
            }) as unknown as SQSRecord,
        );
        let failed = new Set<string>();
        try {
          const response = await invoke({ Records: records });
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (err) {
          console.error(`queue handler failed: ${(err as Error).message}`);
          failed = new Set(records.map((r) => r.messageId));
        }
        for (const record of records) {
          if (!failed.has(record.messageId)) {
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }),
            );
          }
        }
      } catch (err) {
        if (running) console.error(`polling ${queueUrl} failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    env: {},
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
