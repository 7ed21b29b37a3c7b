import { IConstruct } from 'constructs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';

/**
 * The cdk-nag rule packs that every synth runs: a finding without an acknowledgement beside
 * its resource fails `cdk synth`.
 */
export function securityChecks(app: IConstruct) {
  return [new AwsSolutionsChecks(app), new HIPAASecurityChecks(app), new NIST80053R5Checks(app)];
}
