import type { LocalCredentials } from '../iam/local-credentials';
import type { LocalIam } from '../iam/local-iam';
import type { FunctionAccess } from '../iam/platform-access';

/** Lambda's asynchronous invocations: the first attempt and two retries. */
const ASYNC_ATTEMPTS = 3;

export interface RuleTarget {
  readonly handler: string;
  readonly fn: FunctionAccess;
  /** Its role's credentials, with which Lambda sends failed events to its dead-letter queue. */
  readonly credentials: LocalCredentials;
  readonly invoke: (event: unknown) => Promise<unknown>;
}

/** Sends a message to the queue of an ARN as the holder of `credentials`; rejects as SQS refuses. */
export type SendAs = (
  credentials: LocalCredentials,
  queueArn: string,
  body: string,
  attributes: Readonly<Record<string, string>>,
) => Promise<void>;

/**
 * An event that an EventBridge rule delivers to its function, as AWS delivers it:
 * - EventBridge invokes the function as events.amazonaws.com for the rule, which the function's
 *   resource policy must allow (its AWS::Lambda::Permission); an event it cannot deliver goes to
 *   the rule target's dead-letter queue, sent by EventBridge for the rule, which the queue's
 *   policy and, for an encrypted queue, the key's policy must let it do;
 * - Lambda runs the event asynchronously, up to three times; an event that failed them all goes
 *   to the function's dead-letter queue, sent with the function's own role.
 * An event that its dead-letter queue refuses is lost, as on AWS, and said so on stderr. Unlike
 * AWS, retries come at once rather than minutes apart.
 */
export async function deliverThroughRule(
  target: RuleTarget,
  event: unknown,
  iam: LocalIam,
  send: SendAs,
): Promise<void> {
  const { fn, handler } = target;
  const body = JSON.stringify(event);
  const rule = fn.rule;
  if (rule) {
    const invoke = await iam.decide(
      {
        kind: 'service',
        service: 'events.amazonaws.com',
        context: { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': fn.arn.split(':')[4] },
      },
      { action: 'lambda:InvokeFunction', resource: fn.arn },
    );
    if (!invoke.allowed) {
      await keep(handler, rule.deadLetterQueueArn, body, () =>
        send(iam.credentials.forService('events.amazonaws.com', rule.arn), rule.deadLetterQueueArn!, body, {
          RULE_ARN: rule.arn,
          TARGET_ARN: fn.arn,
          ERROR_CODE: 'NO_PERMISSIONS',
          ERROR_MESSAGE: invoke.message,
        }),
      );
      return;
    }
  }
  let failure: Error | undefined;
  for (let attempt = 0; attempt < ASYNC_ATTEMPTS; attempt++) {
    try {
      await target.invoke(event);
      return;
    } catch (err) {
      failure = err as Error;
    }
  }
  await keep(handler, fn.deadLetterQueueArn, body, () =>
    send(target.credentials, fn.deadLetterQueueArn!, body, {
      ErrorCode: '200',
      ErrorMessage: failure!.message,
    }),
  );
}

async function keep(
  handler: string,
  queueArn: string | undefined,
  body: string,
  sendIt: () => Promise<void>,
): Promise<void> {
  if (!queueArn) {
    console.error(`${handler}: an event it failed on is lost, it has no dead-letter queue: ${body}`);
    return;
  }
  try {
    await sendIt();
  } catch (err) {
    console.error(
      `${handler}: an event it failed on is lost, ${queueArn} refused it: ${(err as Error).message}`,
    );
  }
}
