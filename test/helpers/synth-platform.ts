import { App } from 'aws-cdk-lib';
import * as path from 'node:path';
import { loadPlatformConfig } from '../../lib/config/load-platform-config';
import { buildPlatform, Platform } from '../../lib/platform';

const cdkJson = require(path.join(__dirname, '..', '..', 'cdk.json')) as { context: Record<string, unknown> };

/**
 * The platform as `cdk synth` builds it: cdk.json's feature flags, the given config context on
 * top. Lambda bundling is skipped (assets are not under test here and esbuild costs seconds).
 */
export function synthPlatform(context: Record<string, unknown> = {}): { app: App; platform: Platform } {
  const app = new App({
    context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const config = loadPlatformConfig(app.node.getAllContext());
  return { app, platform: buildPlatform(app, config) };
}

let shared: ReturnType<typeof synthPlatform> | undefined;

/**
 * The platform with cdk.json's configuration alone, built once per test file (jest loads this
 * module anew for each) and shared by the tests that only read it: building it takes seconds. A
 * test that changes the app builds its own with `synthPlatform()`.
 */
export function defaultPlatform(): ReturnType<typeof synthPlatform> {
  return (shared ??= synthPlatform());
}
