// The builder's entry, as CodeBuild runs it (`node builder.cjs`, deploy.ts) and local mode may:
// its options from the environment, its report on stdout, exit 0 for BUILD_RESULT and 1 for
// BUILD_FAILED or options it cannot read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILDER_REPORT } from '../../../lambda/contracts/builds';
import { builderOptions, runBuilder, RUNNER_BUNDLES_DIR } from './run-builder';

async function main(): Promise<number> {
  let options;
  try {
    options = builderOptions(process.env);
  } catch (err) {
    console.log(`${BUILDER_REPORT.failed} ${(err as Error).message}`);
    return 1;
  }
  // Beside the bundled builder, the runner's bundles made at synth time; from the sources, none.
  const bundles = path.join(__dirname, RUNNER_BUNDLES_DIR);
  // SIGTERM (a build stopped, or past its timeout) stops the engine and removes what was tagged
  // before the builder exits; without it the engine would build on, orphaned, and tag its image.
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  const outcome = await runBuilder(
    { ...options, runnerBundles: fs.existsSync(bundles) ? bundles : undefined, signal: stop.signal },
    (line) => console.log(line),
  );
  return 'result' in outcome ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.log(`${BUILDER_REPORT.failed} the builder failed: ${err.message}`);
    process.exitCode = 1;
  },
);
