import { batchRequiredAccess } from '../../local/iam/batch-request-access';
import { dynamodbRequiredAccess, sqsRequiredAccess } from '../../local/iam/json-request-access';
import { AccessContext } from '../../local/iam/required-access';
import {
  deleteObjectsRequiredAccess,
  isDeleteObjects,
  s3RequiredAccess,
} from '../../local/iam/s3-request-access';

// How local IAM reads a request: the actions and resources AWS authorizes for it.
const KEY = 'arn:aws:kms:eu-central-1:000000000000:key/k';
const context: AccessContext = {
  region: 'eu-central-1',
  account: '000000000000',
  encryptionKey: (arn) =>
    arn === 'arn:aws:s3:::bucket' ||
    arn.startsWith('arn:aws:sqs:') ||
    arn === 'arn:aws:dynamodb:eu-central-1:000000000000:table/t'
      ? KEY
      : undefined,
};
const s3 = (method: string, path: string, headers: Record<string, string> = {}) =>
  s3RequiredAccess(context, { method, url: new URL(path, 'http://s3'), headers }).map(
    ({ action, resource }) => `${action} ${resource}`,
  );

describe('S3 requests', () => {
  test('a multipart upload is s3:PutObject throughout, with the key to start it and to add or complete parts', () => {
    expect(s3('POST', '/bucket/uploads/a?uploads')).toEqual([
      's3:PutObject arn:aws:s3:::bucket/uploads/a',
      `kms:GenerateDataKey ${KEY}`,
    ]);
    expect(s3('PUT', '/bucket/uploads/a?partNumber=1&uploadId=u')).toEqual([
      's3:PutObject arn:aws:s3:::bucket/uploads/a',
      `kms:Decrypt ${KEY}`,
    ]);
    expect(s3('POST', '/bucket/uploads/a?uploadId=u')).toEqual([
      's3:PutObject arn:aws:s3:::bucket/uploads/a',
      `kms:Decrypt ${KEY}`,
    ]);
    expect(s3('DELETE', '/bucket/uploads/a?uploadId=u')).toEqual([
      's3:AbortMultipartUpload arn:aws:s3:::bucket/uploads/a',
    ]);
  });

  test('reading decrypts, a HEAD does not; a copy reads its source and writes its target', () => {
    expect(s3('GET', '/bucket/images/a%20b.mha')).toEqual([
      's3:GetObject arn:aws:s3:::bucket/images/a b.mha',
      `kms:Decrypt ${KEY}`,
    ]);
    expect(s3('HEAD', '/bucket/images/a')).toEqual(['s3:GetObject arn:aws:s3:::bucket/images/a']);
    expect(s3('PUT', '/bucket/jobs/j/inputs/x', { 'x-amz-copy-source': '/bucket/images/a' })).toEqual([
      's3:GetObject arn:aws:s3:::bucket/images/a',
      `kms:Decrypt ${KEY}`,
      's3:PutObject arn:aws:s3:::bucket/jobs/j/inputs/x',
      `kms:GenerateDataKey ${KEY}`,
    ]);
    expect(s3('PUT', '/bucket/uploads/a?tagging')).toEqual([
      's3:PutObjectTagging arn:aws:s3:::bucket/uploads/a',
    ]);
  });

  test('DeleteObjects needs s3:DeleteObject on every key its body names, as S3 checks each', () => {
    expect(isDeleteObjects('POST', new URL('/bucket?delete', 'http://s3'))).toBe(true);
    expect(isDeleteObjects('POST', new URL('/bucket/uploads/a?delete', 'http://s3'))).toBe(false);
    expect(isDeleteObjects('DELETE', new URL('/bucket/uploads/a', 'http://s3'))).toBe(false);
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>uploads/u/a</Key></Object>' +
      '<Object><Key>uploads/u/b &amp; &lt;c&gt;</Key></Object><Quiet>true</Quiet></Delete>';
    expect(
      deleteObjectsRequiredAccess('bucket', body).map(({ action, resource }) => `${action} ${resource}`),
    ).toEqual([
      's3:DeleteObject arn:aws:s3:::bucket/uploads/u/a',
      's3:DeleteObject arn:aws:s3:::bucket/uploads/u/b & <c>',
    ]);
  });

  test('the key is used through S3, for this bucket', () => {
    const [, key] = s3RequiredAccess(context, {
      method: 'GET',
      url: new URL('/bucket/a', 'http://s3'),
      headers: {},
    });
    expect(key).toMatchObject({
      kms: true,
      context: {
        'kms:ViaService': 's3.eu-central-1.amazonaws.com',
        'kms:CallerAccount': '000000000000',
        'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::bucket',
      },
    });
  });
});

describe('JSON requests', () => {
  test('DynamoDB: a query of an index is on the index, and items need the table key', () => {
    expect(
      dynamodbRequiredAccess(context, 'Query', { TableName: 't', IndexName: 'byOwner' }).map(
        (a) => a.action + ' ' + a.resource,
      ),
    ).toEqual([
      'dynamodb:Query arn:aws:dynamodb:eu-central-1:000000000000:table/t/index/byOwner',
      `kms:Decrypt ${KEY}`,
    ]);
    expect(dynamodbRequiredAccess(context, 'DescribeTable', { TableName: 't' })).toHaveLength(1);
  });

  test('SQS: a batch send is sqs:SendMessage and needs a data key; a receive decrypts', () => {
    const url = 'http://127.0.0.1:1/000000000000/q';
    expect(sqsRequiredAccess(context, 'SendMessageBatch', { QueueUrl: url }).map((a) => a.action)).toEqual([
      'sqs:SendMessage',
      'kms:GenerateDataKey',
    ]);
    expect(sqsRequiredAccess(context, 'ReceiveMessage', { QueueUrl: url }).map((a) => a.action)).toEqual([
      'sqs:ReceiveMessage',
      'kms:Decrypt',
    ]);
    expect(sqsRequiredAccess(context, 'DeleteMessage', { QueueUrl: url })).toEqual([
      { action: 'sqs:DeleteMessage', resource: 'arn:aws:sqs:eu-central-1:000000000000:q' },
    ]);
  });
});

describe('Batch requests', () => {
  test('SubmitJob by name is authorized on the revision it runs, and on the queue', () => {
    expect(
      batchRequiredAccess(context, '/v1/submitjob', { jobQueue: 'q', jobDefinition: 'd' }, () => 3).map(
        (a) => a.resource,
      ),
    ).toEqual([
      'arn:aws:batch:eu-central-1:000000000000:job-queue/q',
      'arn:aws:batch:eu-central-1:000000000000:job-definition/d:3',
    ]);
  });

  test('registering a definition passes its roles to Batch and tags the new revision', () => {
    const access = batchRequiredAccess(
      context,
      '/v1/registerjobdefinition',
      {
        jobDefinitionName: 'd',
        tags: { a: 'b' },
        containerProperties: {
          jobRoleArn: 'arn:aws:iam::000000000000:role/job',
          executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
        },
      },
      () => 1,
    );
    expect(access).toEqual([
      {
        action: 'batch:RegisterJobDefinition',
        resource: 'arn:aws:batch:eu-central-1:000000000000:job-definition/d',
      },
      { action: 'batch:TagResource', resource: 'arn:aws:batch:eu-central-1:000000000000:job-definition/d:2' },
      ...['job', 'exec'].map((role) => ({
        action: 'iam:PassRole',
        resource: `arn:aws:iam::000000000000:role/${role}`,
        context: { 'iam:PassedToService': 'batch.amazonaws.com' },
      })),
    ]);
  });
});
