import { expectedOutput, expectedPattern, runWalkthrough } from '../../bin/smoke/readme-walkthrough';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { jobs: 'run' });
});

afterAll(() => platform.stop());

describe('README walkthrough', () => {
  test('prints what its comments say', () => {
    expect(expectedOutput()).toEqual([
      'Completed',
      'Succeeded: Converted',
      'ObjectType = Image',
      'true',
      'Succeeded',
      '{"threshold":2,"voxels":4,"foreground":2,"fraction":0.5}',
      'ObjectType = Image',
      '1',
      '<viewer URL of the session>',
    ]);
  });

  test('uploads a file, makes an image, registers an algorithm and submits a job against local mode', async () => {
    // Asynchronous: the platform answers from this very process.
    const result = await runWalkthrough({ ...process.env, API: `${platform.urls.api}/v1` });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const printed = result.stdout.trim().split('\n');
    expect(printed).toEqual(expectedOutput().map((line) => expect.stringMatching(expectedPattern(line))));
    // It ends on the session's page at local mode's viewer, the credential in the fragment.
    expect(printed.at(-1)).toMatch(
      new RegExp(`^${platform.urls.viewer}/sessions/[0-9a-f-]{36}#credential=[\\w-]+\\.[\\w-]+$`),
    );
  });
});
