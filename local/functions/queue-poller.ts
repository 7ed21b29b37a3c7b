import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunningService } from '../services/running-service';

export interface QueueEventSource {
  readonly queueUrl: string;
  /** Messages per invocation, at most. */
  readonly batchSize: number;
  /** Whether the function's `batchItemFailures` are read; without it, any return deletes the whole batch. */
  readonly reportBatchItemFailures: boolean;
  /** Batches handed to the function at once. */
  readonly concurrency: number;
  /** The region named in the records' queue ARN. */
  readonly region: string;
}

/**
 * Lambda's SQS event source mapping, for local mode: `concurrency` pollers long-poll the queue,
 * each hands the batch it received to the function as the SQS event Lambda builds, and deletes
 * the messages that succeeded. A function that throws, times out or whose sandbox dies fails the
 * whole batch; with `reportBatchItemFailures` a response names the failed messages, and a response
 * that names a message not in the batch fails the whole batch, as Lambda does. Failed messages
 * stay in the queue and come back after their visibility timeout. While a function runs, its
 * messages may time out and reach another invocation, as in AWS.
 *
 * `stop()` ends polling and abandons the invocations under way (their sandboxes stop, as when the
 * machine goes away); their messages are given back to the queue at once, so that the next start
 * takes them up without waiting for their visibility timeout. Giving back is local mode's own act,
 * no call the deployed event source makes: it goes through `operator`, not the function's role.
 */
export function pollQueue(
  sqs: SQSClient,
  source: QueueEventSource,
  invoke: (event: SQSEvent, signal: AbortSignal) => Promise<SQSBatchResponse | void>,
  operator: SQSClient = sqs,
): RunningService {
  const { queueUrl } = source;
  const abandon = new AbortController();
  // arn:aws:sqs:<region>:<account>:<name>, from the queue URL <endpoint>/<account>/<name>.
  const [account, name] = new URL(queueUrl).pathname.split('/').slice(1);
  const eventSourceARN = `arn:aws:sqs:${source.region}:${account}:${name}`;

  const deliver = async (records: SQSRecord[]) => {
    let failed: ReadonlySet<string>;
    try {
      const response = await invoke({ Records: records }, abandon.signal);
      failed = source.reportBatchItemFailures ? failedItems(response, records) : new Set();
    } catch (err) {
      if (!abandon.signal.aborted) console.error(`queue handler failed: ${(err as Error).message}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    for (const record of records) {
      const handle = { QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle };
      if (!failed.has(record.messageId)) {
        await sqs.send(new DeleteMessageCommand(handle));
      } else if (abandon.signal.aborted) {
        // Not the message's fault: it goes back for the next start.
        await operator
          .send(new ChangeMessageVisibilityCommand({ ...handle, VisibilityTimeout: 0 }))
          .catch(() => {
            // Its visibility timeout ran out meanwhile: it is back already.
          });
      }
    }
  };

  const poller = async () => {
    while (!abandon.signal.aborted) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: source.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) continue;
        await deliver(
          Messages.map(
            (m) =>
              ({
                messageId: m.MessageId!,
                receiptHandle: m.ReceiptHandle!,
                body: m.Body!,
                attributes: {
                  ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
                  SentTimestamp: m.Attributes?.SentTimestamp ?? '',
                  SenderId: m.Attributes?.SenderId ?? '',
                  ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? '',
                },
                messageAttributes: {},
                md5OfBody: m.MD5OfBody!,
                eventSource: 'aws:sqs',
                eventSourceARN,
                awsRegion: source.region,
              }) satisfies SQSRecord,
          ),
        );
      } catch (err) {
        if (abandon.signal.aborted) break;
        console.error(`polling ${queueUrl} failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const pollers = Array.from({ length: source.concurrency }, poller);
  return {
    env: {},
    stop: async () => {
      abandon.abort();
      await Promise.all(pollers);
    },
  };
}

/**
 * The messages a partial batch response names as failed. As Lambda does, a response that names
 * no valid message of the batch (an empty or unknown `itemIdentifier`) fails the whole batch.
 */
function failedItems(response: SQSBatchResponse | void, records: readonly SQSRecord[]): ReadonlySet<string> {
  const all = new Set(records.map((r) => r.messageId));
  const items = response?.batchItemFailures ?? [];
  if (items.some((item) => typeof item?.itemIdentifier !== 'string' || !all.has(item.itemIdentifier))) {
    return all;
  }
  return new Set(items.map((item) => item.itemIdentifier));
}
