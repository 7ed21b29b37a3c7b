#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { checkDeployable, loadPlatformConfig, PlatformConfigError } from '../lib/config/load-platform-config';
import { buildPlatform } from '../lib/platform';
import { securityChecks } from '../lib/core/security-checks';

const app = new App();
try {
  const config = loadPlatformConfig(app.node.getAllContext());
  const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  checkDeployable(config, account);
  buildPlatform(app, config, account);
} catch (err) {
  if (err instanceof PlatformConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
Validations.of(app).addPlugins(...securityChecks(app));
