import { expectedOutput, expectedPattern, runWalkthrough } from '../../bin/smoke/readme-walkthrough';
import { LocalPlatform } from '../../local/local-platform';
import { CHAOS_DELIVERY } from '../../local/services/delivery';
import { startTestPlatform } from '../helpers/local-platform-fixture';

/** The run to repeat: CHAOS_SEED=<n> npx jest test/local/readme-walkthrough-chaos.test.ts */
const SEED = Number(process.env.CHAOS_SEED ?? 20_260_101);

let platform: LocalPlatform;
let killed = false;

beforeAll(async () => {
  platform = await startTestPlatform(
    {},
    {
      jobs: 'run',
      // SQS and EventBridge duplicate and reorder; a message comes back 10 s after a receive
      // that was not deleted, not the deployed 900 s.
      delivery: { seed: SEED, ...CHAOS_DELIVERY },
      conversionVisibilityTimeoutSeconds: 10,
    },
  );
  // The first conversion to reach S3 (it has claimed its image then) dies there with its sandbox.
  const fault = platform.functions
    .get('images/convert-image')
    .injectFault({ host: new URL(platform.urls.s3).host, action: 'exit' });
  void fault.struck.then(() => (killed = true));
});

afterAll(() => platform.stop());

describe(`README walkthrough under duplicated and reordered delivery (seed ${SEED})`, () => {
  test('ends as it does with exact delivery, after a converter invocation killed mid-way', async () => {
    const result = await runWalkthrough({ ...process.env, API: `${platform.urls.api}/v1` });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(
      expectedOutput().map((line) => expect.stringMatching(expectedPattern(line))),
    );
    // The invocation was killed: the image above was converted by a delivery after it.
    expect(killed).toBe(true);
    // And the queue did deliver some message twice in this run.
    expect(platform.queues.duplicated()).toBeGreaterThan(0);
  }, 180_000);
});
