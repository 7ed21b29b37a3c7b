import { AccessContext, kmsUse, RequiredAccess } from './required-access';

type Body = Record<string, unknown>;

/** The services that local mode reaches through the JSON protocol and X-Amz-Target. */
export type JsonService = 'dynamodb' | 'sqs' | 'secretsmanager' | 'logs' | 'codepipeline';

/** The operation an X-Amz-Target names: `DynamoDB_20120810.PutItem` -> `PutItem`. */
export function operationOf(target: string): string {
  return target.slice(target.lastIndexOf('.') + 1);
}

/** Operations whose IAM action is another's: a batch is authorized as each of its calls. */
const SQS_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** DynamoDB operations that read or write items, for which DynamoDB decrypts the table key for the caller. */
const DYNAMODB_ITEM_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

/**
 * What DynamoDB authorizes for a request: the operation's action on the table, or on the index it
 * queries or scans; transactions as each item's own action; and, for item operations on a table
 * with a customer managed key, kms:Decrypt of the table key, which DynamoDB asks KMS for with
 * the caller's permissions (and keeps for five minutes per caller, which local mode does not).
 */
export function dynamodbRequiredAccess(
  context: AccessContext,
  operation: string,
  body: Body,
): RequiredAccess[] {
  const table = (name: unknown) =>
    `arn:aws:dynamodb:${context.region}:${context.account}:table/${String(name)}`;
  const onTable = (action: string, name: unknown, index?: unknown): RequiredAccess[] => [
    { action: `dynamodb:${action}`, resource: index ? `${table(name)}/index/${String(index)}` : table(name) },
    ...(DYNAMODB_ITEM_OPERATIONS.has(operation)
      ? kmsUse(context, table(name), 'kms:Decrypt', 'dynamodb')
      : []),
  ];
  switch (operation) {
    case 'ListTables':
      return [{ action: 'dynamodb:ListTables', resource: '*' }];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems ?? {}) as Body).flatMap((name) => onTable(operation, name));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return ((body.TransactItems ?? []) as Body[]).flatMap((item) =>
        Object.entries(item).flatMap(([kind, call]) =>
          onTable(actions[kind] ?? kind, (call as Body).TableName),
        ),
      );
    }
    default:
      return onTable(operation, body.TableName, body.IndexName);
  }
}

/**
 * What SQS authorizes: the action on the queue its URL names; on a queue encrypted with a KMS
 * key, SQS asks KMS for the caller: kms:GenerateDataKey to send, kms:Decrypt to receive.
 */
export function sqsRequiredAccess(context: AccessContext, operation: string, body: Body): RequiredAccess[] {
  if (operation === 'ListQueues') return [{ action: 'sqs:ListQueues', resource: '*' }];
  const name =
    operation === 'GetQueueUrl'
      ? String(body.QueueName)
      : String(body.QueueUrl ?? '')
          .split('/')
          .pop();
  const queue = `arn:aws:sqs:${context.region}:${context.account}:${name}`;
  const action = SQS_ACTIONS[operation] ?? operation;
  const encryption = { 'aws:sqs:arn': queue };
  return [
    { action: `sqs:${action}`, resource: queue },
    ...(action === 'SendMessage' ? kmsUse(context, queue, 'kms:GenerateDataKey', 'sqs', encryption) : []),
    ...(action === 'ReceiveMessage' ? kmsUse(context, queue, 'kms:Decrypt', 'sqs', encryption) : []),
  ];
}

/**
 * What Secrets Manager authorizes: the action on the secret (named by ARN or by name), and to read
 * a value of a secret encrypted with a customer managed key, kms:Decrypt through Secrets Manager.
 */
export function secretsManagerRequiredAccess(
  context: AccessContext,
  operation: string,
  body: Body,
  secretArn: (id: string) => string | undefined,
): RequiredAccess[] {
  if (operation === 'ListSecrets') return [{ action: 'secretsmanager:ListSecrets', resource: '*' }];
  const id = String(body.SecretId ?? body.Name ?? '');
  const arn =
    secretArn(id) ??
    (id.startsWith('arn:')
      ? id
      : `arn:aws:secretsmanager:${context.region}:${context.account}:secret:${id}-??????`);
  return [
    { action: `secretsmanager:${operation}`, resource: arn },
    ...(operation === 'GetSecretValue'
      ? kmsUse(context, arn, 'kms:Decrypt', 'secretsmanager', { SecretARN: arn })
      : []),
  ];
}

/** What CloudWatch Logs authorizes: reading a stream is an action on the stream's ARN. */
export function logsRequiredAccess(context: AccessContext, operation: string, body: Body): RequiredAccess[] {
  const group = `arn:aws:logs:${context.region}:${context.account}:log-group:${String(body.logGroupName ?? '')}`;
  if (body.logStreamName !== undefined) {
    return [{ action: `logs:${operation}`, resource: `${group}:log-stream:${String(body.logStreamName)}` }];
  }
  return [{ action: `logs:${operation}`, resource: `${group}:*` }];
}

/**
 * What CodePipeline and CodeBuild authorize, by the target's service: a pipeline's executions
 * are actions on the pipeline's ARN, a job's result on no resource (`*`), StopBuild on the
 * project that the build id names (`<project>:<uuid>`, or the build's ARN).
 */
export function codepipelineRequiredAccess(
  context: AccessContext,
  target: string,
  body: Body,
): RequiredAccess[] {
  const operation = operationOf(target);
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${context.region}:${context.account}:${resource}`;
  if (target.startsWith('CodeBuild_')) {
    const id = String(body.id ?? '');
    const project = (id.startsWith('arn:') ? id.slice(id.indexOf(':build/') + 7) : id).split(':')[0];
    return [{ action: `codebuild:${operation}`, resource: arn('codebuild', `project/${project}`) }];
  }
  if (operation === 'PutJobSuccessResult' || operation === 'PutJobFailureResult') {
    return [{ action: `codepipeline:${operation}`, resource: '*' }];
  }
  return [
    {
      action: `codepipeline:${operation}`,
      resource: arn('codepipeline', String(body.name ?? body.pipelineName ?? '')),
    },
  ];
}
