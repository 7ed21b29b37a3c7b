import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { securityChecks } from '../../lib/core/security-checks';
import { defaultPlatform, synthPlatform } from '../helpers/synth-platform';

function findings(app: Parameters<typeof securityChecks>[0]) {
  return securityChecks(app).flatMap((pack) =>
    pack.validateScope(app).violations.map((v) => ({
      rule: v.ruleName,
      resources: v.violatingResources.map((r) => r.constructPath),
    })),
  );
}

describe('security checks', () => {
  test('the AwsSolutions, HIPAA Security and NIST 800-53 rev 5 packs report nothing unacknowledged', () => {
    const { app } = defaultPlatform();
    expect(findings(app)).toEqual([]);
  });

  test('the packs run in the app: an unacknowledged finding is reported with its resource', () => {
    const { app, platform } = synthPlatform();
    new s3.Bucket(platform.data, 'UnloggedBucket', { enforceSSL: true });
    const reported = findings(app);
    expect(reported).toEqual(
      expect.arrayContaining([
        { rule: 'AwsSolutions-S1', resources: ['ImagingPlatform-Data/UnloggedBucket/Resource'] },
        {
          rule: 'HIPAA.Security-S3BucketLoggingEnabled',
          resources: ['ImagingPlatform-Data/UnloggedBucket/Resource'],
        },
        {
          rule: 'NIST.800.53.R5-S3BucketLoggingEnabled',
          resources: ['ImagingPlatform-Data/UnloggedBucket/Resource'],
        },
      ]),
    );
  });

  test("CDK's CloudFormation validation is on and fails synth on a template error", () => {
    const { app, platform } = synthPlatform();
    const bucket = platform.data.imagingBucket.bucket.node.defaultChild as s3.CfnBucket;
    bucket.addPropertyOverride('AccelerationMode', 'Fast');
    expect(() => app.synth()).toThrow(/'AccelerationMode' was unexpected\) \(CloudFormation Validate\)/);
  });

  test('every acknowledgement states a reason', () => {
    const { app } = defaultPlatform();
    const acknowledgements = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      // A reason states evidence: a sentence, not a word.
      expect([id, reason.length >= 60]).toEqual([id, true]);
    }
  });
});
