// Runs the README's walkthrough against a deployment, as a researcher would use it: a fresh
// verified user signs in, uploads a file, gets it converted, registers the example algorithm and
// runs a job on the GPU queue. `npx cdk deploy --all --outputs-file outputs.json`, then
// `npm run smoke -- outputs.json [--algorithm-image <ECR image by digest>] [--repository <name>]`.
// Needs credentials that may administer the user pool and push to ECR; see docs/local-mode.md.
import { findContainerEngine } from '../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../local/local-options';
import { pushExampleAlgorithm } from './smoke/algorithm-image';
import { expectedOutput, runWalkthrough } from './smoke/readme-walkthrough';
import { createSmokeUser } from './smoke/smoke-user';
import { readStackOutputs } from './smoke/stack-outputs';

/** GPU instances start from nothing on a first job: allow for it before calling a job lost. */
const WAIT_SECONDS = 30 * 60;
const USAGE =
  'usage: npm run smoke -- <outputs.json> [--algorithm-image <ECR image by digest>] [--repository <ECR repository>]';

function parseArguments(args: string[]) {
  const [file, ...rest] = args;
  const options: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (!['--algorithm-image', '--repository'].includes(flag) || value === undefined) {
      throw new Error(`${flag === undefined ? 'nothing' : flag} is not understood\n${USAGE}`);
    }
    options[flag.slice(2)] = value;
  }
  if (!file) throw new Error(USAGE);
  return { file, algorithmImage: options['algorithm-image'], repository: options.repository };
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  const deployment = readStackOutputs(options.file);
  let algorithmImage = options.algorithmImage;
  if (!algorithmImage) {
    const engine = findContainerEngine();
    if (!engine) throw new Error(NO_CONTAINER_ENGINE);
    const repository = options.repository ?? 'imaging-platform-smoke/example-threshold';
    console.error(`pushing the example algorithm to ${repository} and waiting for its scan`);
    algorithmImage = await pushExampleAlgorithm(engine, deployment.region, repository);
  }
  const user = await createSmokeUser(deployment);
  console.error(`signed in as ${user.email}; walking through ${deployment.api}`);
  try {
    const run = await runWalkthrough({
      ...process.env,
      API: deployment.api,
      AUTH: `Authorization: Bearer ${user.idToken}`,
      ALGORITHM_IMAGE: algorithmImage,
      WAIT: String(WAIT_SECONDS),
    });
    const printed = run.stdout.trim().split('\n');
    const expected = expectedOutput();
    const passed = run.status === 0 && JSON.stringify(printed) === JSON.stringify(expected);
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
