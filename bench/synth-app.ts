// Synthesizes the whole app in this process the way `cdk synth` runs bin/platform.ts, then
// reports this process's wall time and peak memory (esbuild's own process not included). bench/run.ts starts it fresh each time.
import * as path from 'node:path';

const cdkJson = require(path.join(__dirname, '..', 'cdk.json')) as { context: Record<string, unknown> };
process.env.CDK_OUTDIR = process.argv[2];
// As the CLI passes it: cdk.json's context plus the metadata switches the CLI turns on.
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  ...cdkJson.context,
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
});

const started = performance.now();
// With CDK_OUTDIR set, the App synthesizes itself before the process exits.
require('../bin/platform');
process.on('exit', () => {
  const figures = { wallMs: performance.now() - started, maxRssKb: process.resourceUsage().maxRSS };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
});
