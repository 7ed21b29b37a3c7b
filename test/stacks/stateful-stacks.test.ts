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
    // Tables, buckets, the key, the user pool and the queues.
    expect(new Set(found)).toEqual(
      new Set([
        'AWS::DynamoDB::GlobalTable',
        'AWS::S3::Bucket',
        'AWS::KMS::Key',
        'AWS::Cognito::UserPool',
        'AWS::SQS::Queue',
      ]),
    );
  });

  test('the stateless stacks depend on the stateful one, never the other way', () => {
    for (const stack of stacks.filter((s) => s !== stateful)) {
      expect(stack.dependencies).toContain(stateful);
    }
    expect(stateful.dependencies).toEqual([]);
  });
});
