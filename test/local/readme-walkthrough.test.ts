import { expectedOutput, runWalkthrough } from '../../bin/smoke/readme-walkthrough';
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
    ]);
  });

  test('uploads a file, makes an image, registers an algorithm and submits a job against local mode', async () => {
    // Asynchronous: the platform answers from this very process.
    const result = await runWalkthrough({ ...process.env, API: `${platform.urls.api}/v1` });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(expectedOutput());
  });
});
