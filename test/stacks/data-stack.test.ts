import { Template, Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from '../helpers/synth-platform';

describe('data stack', () => {
  let template: Template;
  let bucketId: string;
  let keyId: string;

  beforeAll(() => {
    const { platform } = synthPlatform();
    template = Template.fromStack(platform.data);
    bucketId = Object.keys(
      template.findResources('AWS::S3::Bucket', { Properties: { AccelerateConfiguration: {} } }),
    )[0];
    keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
  });

  test('the functions that make the signing keys at deploy are not traced: a trace would tell nothing their log does not', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(2);
    expect(functions.filter((f) => f.Properties.TracingConfig)).toEqual([]);
  });

  test('the imaging bucket has transfer acceleration on', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      AccelerateConfiguration: { AccelerationStatus: 'Enabled' },
    });
    expect(bucketId).toBeDefined();
  });

  test('the imaging bucket is encrypted with the customer-managed KMS key', () => {
    const bucket = template.toJSON().Resources[bucketId];
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
        },
      },
    ]);
  });

  test('the KMS key rotates and is retained', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test("EventBridge may put failed events into the encrypted dead-letter queue, for this account's rules", () => {
    const key = template.toJSON().Resources[keyId].Properties;
    const forEvents = key.KeyPolicy.Statement.filter(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'events.amazonaws.com',
    );
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0].Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(forEvents[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    const [queueId] = Object.keys(
      template.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 1209600 } }),
    ).filter((id) => id.startsWith('BackgroundFailures'));
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((p) =>
      JSON.stringify(p.Properties.Queues).includes(queueId),
    )!;
    const send = policy.Properties.PolicyDocument.Statement.find(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'events.amazonaws.com',
    );
    expect(send.Action).toBe('sqs:SendMessage');
    expect(JSON.stringify(send.Condition.ArnLike['aws:SourceArn'])).toContain(':rule/ImagingPlatform-Api-*');
  });

  test('idempotency keys and session records expire: DynamoDB deletes them after their expiresAt and purgeAt', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const withTtl = tables.filter((t) => t.Properties.TimeToLiveSpecification);
    expect(withTtl.map((t) => [t.Properties.KeySchema, t.Properties.TimeToLiveSpecification])).toEqual([
      [[{ AttributeName: 'key', KeyType: 'HASH' }], { AttributeName: 'expiresAt', Enabled: true }],
      [[{ AttributeName: 'id', KeyType: 'HASH' }], { AttributeName: 'purgeAt', Enabled: true }],
    ]);
  });

  test('every bucket blocks all public access', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    // Imaging, access logs, and the build pipeline's artifacts.
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  test('the imaging bucket policy denies requests without TLS and below TLS 1.2', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: bucketId } },
    });
    const statements = Object.values(policies)[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      ]),
    );
  });

  test('the imaging bucket is versioned, retained and logs accesses to the log bucket', () => {
    const bucket = template.toJSON().Resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const logBucketId = bucket.Properties.LoggingConfiguration.DestinationBucketName.Ref;
    expect(template.toJSON().Resources[logBucketId].Type).toBe('AWS::S3::Bucket');
    expect(logBucketId).not.toBe(bucketId);
  });

  test('browsers from configured origins may upload parts and read the ETag', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      AccelerateConfiguration: Match.anyValue(),
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({
            AllowedOrigins: ['http://localhost:4000', 'http://127.0.0.1:4000'],
            AllowedMethods: Match.arrayWith(['PUT']),
            ExposedHeaders: ['ETag'],
          }),
        ],
      },
    });
  });

  test('lifecycle aborts incomplete uploads after 1 day, expires converted raw uploads and old versions', () => {
    const rules = template.toJSON().Resources[bucketId].Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({
          Prefix: 'uploads/',
          TagFilters: [{ Key: 'conversion', Value: 'succeeded' }],
          ExpirationInDays: 1,
        }),
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      ]),
    );
  });

  test('the CloudFront origin reaches the bucket through Origin Access Control only', () => {
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0];
    const [origin] = distribution.Properties.DistributionConfig.Origins;
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(origin.DomainName).toEqual({ 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always' },
    });
  });

  test('the default behaviour needs a signature from the trusted key group and HTTPS', () => {
    const keyGroupId = Object.keys(template.findResources('AWS::CloudFront::KeyGroup'))[0];
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          TrustedKeyGroups: [{ Ref: keyGroupId }],
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
        }),
      },
    });
    expect(Object.keys(template.findResources('AWS::CloudFront::Distribution'))).toHaveLength(1);
  });

  test('the distribution writes access logs', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Logging: {
          Bucket: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] },
          Prefix: 'cloudfront/',
        },
      },
    });
  });

  test('the trusted key group holds the public key that the key pair resource returns', () => {
    const customId = Object.keys(template.findResources('Custom::UrlSigningKeyPair'))[0];
    const publicKeyId = Object.keys(template.findResources('AWS::CloudFront::PublicKey'))[0];
    template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: { EncodedKey: { 'Fn::GetAtt': [customId, 'PublicKeyPem'] } },
    });
    template.hasResourceProperties('AWS::CloudFront::KeyGroup', {
      KeyGroupConfig: { Items: [{ Ref: publicKeyId }] },
    });
  });

  test('the key pair custom resource writes the private key to Secrets Manager under the KMS key', () => {
    template.hasResourceProperties('Custom::UrlSigningKeyPair', {
      SecretNamePrefix: 'ImagingPlatform-Data/url-signing-key',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Generation: 1,
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const secretStatement = statements.find(
      (s) =>
        [s.Action].flat().includes('secretsmanager:CreateSecret') &&
        JSON.stringify(s.Resource).includes('url-signing-key'),
    );
    expect(secretStatement.Action).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:TagResource',
    ]);
    expect(JSON.stringify(secretStatement.Resource)).toContain(
      ':secret:ImagingPlatform-Data/url-signing-key/*',
    );
    expect(
      statements.some((s) => JSON.stringify(s.Resource) === '"*"' && /secretsmanager/.test(String(s.Action))),
    ).toBe(false);
  });

  test('the session signing key is made by its custom resource into a secret under the KMS key, and its public key published', () => {
    const customId = Object.keys(template.findResources('Custom::SessionSigningKey'))[0];
    template.hasResourceProperties('Custom::SessionSigningKey', {
      SecretNamePrefix: 'ImagingPlatform-Data/session-signing-key',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    // Its function may touch only the secrets under its own prefix.
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    const secretStatements = statements.filter((s) =>
      JSON.stringify(s.Resource).includes(':secret:ImagingPlatform-Data/session-signing-key/*'),
    );
    expect(secretStatements.map((s) => s.Action)).toEqual([
      [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:TagResource',
      ],
    ]);
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/ImagingPlatform/sessions/public-key',
      Type: 'String',
      Value: { 'Fn::GetAtt': [customId, 'PublicKeyPem'] },
    });
    template.hasOutput('SessionPublicKeyPem', { Value: { 'Fn::GetAtt': [customId, 'PublicKeyPem'] } });
  });

  test('Lambda roles carry no AWS managed policies', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  describe('the algorithm repository', () => {
    const repository = () => {
      const found = Object.values(template.findResources('AWS::ECR::Repository'));
      expect(found).toHaveLength(1);
      return found[0];
    };

    test('is named as the builds name it, encrypted with the platform key, scanned on push, retained', () => {
      const { Properties, DeletionPolicy, UpdateReplacePolicy } = repository();
      // Unique to the stack's creation: the retained repository does not block a redeploy.
      expect(Properties.RepositoryName).toEqual({
        'Fn::Join': [
          '',
          [
            'imagingplatform/algorithms-',
            { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
          ],
        ],
      });
      expect(Properties.EncryptionConfiguration).toEqual({
        EncryptionType: 'KMS',
        KmsKey: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
      expect(Properties.ImageScanningConfiguration).toEqual({ ScanOnPush: true });
      expect([DeletionPolicy, UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    });

    test('has immutable tags, so that a version tag never moves to another image', () => {
      expect(repository().Properties.ImageTagMutability).toBe('IMMUTABLE');
    });

    test('keeps every image with a version tag, and expires retired and candidate images after the configured days', () => {
      const policy = JSON.parse(repository().Properties.LifecyclePolicy.LifecyclePolicyText);
      const rules = policy.rules.map(
        (r: { rulePriority: number; selection: Record<string, unknown>; action: unknown }) => [
          r.rulePriority,
          r.selection,
          r.action,
        ],
      );
      expect(rules).toEqual([
        [
          1,
          {
            tagStatus: 'tagged',
            tagPatternList: ['version-*'],
            countType: 'imageCountMoreThan',
            countNumber: 999999,
          },
          { type: 'expire' },
        ],
        [
          2,
          {
            tagStatus: 'tagged',
            tagPatternList: ['retired-*'],
            countType: 'sinceImagePulled',
            countUnit: 'days',
            countNumber: 30,
          },
          { type: 'expire' },
        ],
        [
          3,
          {
            tagStatus: 'tagged',
            tagPatternList: ['build-*'],
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 30,
          },
          { type: 'expire' },
        ],
      ]);
      // Nothing selects untagged images or every image: parts of an index, and versions, stay.
      expect(JSON.stringify(policy)).not.toMatch(/"tagStatus":"(untagged|any)"/);
    });

    test('publishes its ARN for the stacks that grant pulls from it', () => {
      const repositoryId = Object.keys(template.findResources('AWS::ECR::Repository'))[0];
      const outputs = Object.values(template.toJSON().Outputs) as { Value: unknown }[];
      expect(outputs.map((o) => o.Value)).toContainEqual({ 'Fn::GetAtt': [repositoryId, 'Arn'] });
    });
  });
});

describe('data stack with a custom images domain', () => {
  test('the distribution serves the domain with TLS 1.2 at least', () => {
    const { platform } = synthPlatform({
      'platform.domains.images':
        '{"domainName":"images.example.org","certificateArn":"arn:aws:acm:us-east-1:123456789012:certificate/0b3b5f2c-1111-2222-3333-444455556666"}',
    });
    Template.fromStack(platform.data).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['images.example.org'],
        ViewerCertificate: Match.objectLike({
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        }),
      }),
    });
  });
});

describe('data stack with other settings', () => {
  test('the repository expires retired and candidate images after builds.retiredImageDays', () => {
    const { platform } = synthPlatform({ 'platform.builds.retiredImageDays': '7' });
    const [repository] = Object.values(
      Template.fromStack(platform.data).findResources('AWS::ECR::Repository'),
    );
    const { rules } = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText);
    expect(rules.map((r: { selection: { countNumber: number } }) => r.selection.countNumber)).toEqual([
      999999, 7, 7,
    ]);
  });
});

describe('stack placement', () => {
  test('the data stack is in the configured home region', () => {
    const { platform } = synthPlatform({ 'platform.homeRegion': 'ap-southeast-2' });
    expect(platform.data.region).toBe('ap-southeast-2');
  });
});
