import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { synthPlatform } from '../helpers/synth-platform';

/** Resources that hold data: deleting one loses it. */
const STATEFUL_TYPES = [
  'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::Cognito::UserPool',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
  'AWS::ECR::Repository',
];

describe('stateful and stateless stacks', () => {
  let stacks: Stack[];
  let stateful: Stack;

  beforeAll(() => {
    const { platform } = synthPlatform();
    stacks = [platform.data, platform.api, platform.compute];
    stateful = platform.data;
  });

  test('every resource that holds data sits in the stateful stack and is retained when it is deleted', () => {
    const found: string[] = [];
    for (const stack of stacks) {
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }
      >;
      for (const [id, resource] of Object.entries(resources)) {
        if (!STATEFUL_TYPES.includes(resource.Type)) continue;
        found.push(resource.Type);
        expect([id, stack.stackName, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([
          id,
          stateful.stackName,
          'Retain',
          'Retain',
        ]);
      }
    }
    // Tables, buckets, the key, the user pool, the queues, the secret naming the signing key and
    // the page token key, the algorithm repository.
    expect(new Set(found)).toEqual(
      new Set([
        'AWS::DynamoDB::GlobalTable',
        'AWS::S3::Bucket',
        'AWS::KMS::Key',
        'AWS::Cognito::UserPool',
        'AWS::SQS::Queue',
        'AWS::SecretsManager::Secret',
        'AWS::ECR::Repository',
      ]),
    );
  });

  test('no stack retains a resource under a fixed name, so each redeploys after `cdk destroy`', () => {
    const fixed: string[] = [];
    for (const stack of stacks) {
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }
      >;
      for (const [id, resource] of Object.entries(resources)) {
        if (resource.DeletionPolicy !== 'Retain') continue;
        for (const [key, value] of Object.entries(resource.Properties ?? {})) {
          // A name of its own, unless it carries the id CloudFormation gives each creation of the
          // stack, or of another resource of it.
          if (!/Name$/.test(key)) continue;
          const text = JSON.stringify(value);
          const fresh = text.includes('AWS::StackId') || /"Ref":"(?!AWS::)|"Fn::GetAtt"/.test(text);
          if (typeof value === 'string' || !fresh) {
            fixed.push(`${stack.stackName}/${id} ${key}: ${JSON.stringify(value)}`);
          }
        }
      }
    }
    expect(fixed).toEqual([]);
  });

  test('the stateless stacks depend on the stateful one, never the other way', () => {
    for (const stack of stacks.filter((s) => s !== stateful)) {
      expect(stack.dependencies).toContain(stateful);
    }
    expect(stateful.dependencies).toEqual([]);
  });
});
