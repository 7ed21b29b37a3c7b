// Runs the README's walkthrough against a deployment, as a researcher would use it: a fresh
// verified user signs in, uploads a file, gets it converted, registers the example algorithm,
// pushes its folder through the build pipeline and runs a job on the GPU queue.
// `npx cdk deploy --all --outputs-file outputs.json`, then `npm run smoke -- outputs.json`.
// Needs credentials that may administer the user pool; see docs/local-mode.md.
import { expectedOutput, printedAsExpected, runWalkthrough } from './smoke/readme-walkthrough';
import { createSmokeUser } from './smoke/smoke-user';
import { readStackOutputs } from './smoke/stack-outputs';

/** GPU instances start from nothing on a first job: allow for it before calling a job lost. */
const WAIT_SECONDS = 30 * 60;
const USAGE = 'usage: npm run smoke -- <outputs.json>';

async function main(): Promise<number> {
  const [file, ...rest] = process.argv.slice(2);
  if (!file || rest.length > 0) throw new Error(USAGE);
  const deployment = readStackOutputs(file);
  const user = await createSmokeUser(deployment);
  console.error(`signed in as ${user.email}; walking through ${deployment.api}`);
  try {
    const run = await runWalkthrough({
      ...process.env,
      API: deployment.api,
      AUTH: `Authorization: Bearer ${user.idToken}`,
      // CodeBuild pulls the example's base image; nothing is built on this machine.
      EXAMPLE_BASE: 'pull',
      WAIT: String(WAIT_SECONDS),
    });
    const printed = run.stdout.trim().split('\n');
    const expected = expectedOutput();
    const passed =
      run.status === 0 &&
      printed.length === expected.length &&
      expected.every((line, i) => printedAsExpected(printed[i], line));
    console.log(passed ? 'smoke test passed' : 'smoke test FAILED');
    if (!passed) {
      console.log(
        `exit status ${run.status}\nexpected:\n  ${expected.join('\n  ')}\nprinted:\n  ${printed.join('\n  ')}`,
      );
      if (run.stderr) console.log(`stderr:\n${run.stderr}`);
    }
    return passed ? 0 : 1;
  } finally {
    await user.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(2);
  },
);
