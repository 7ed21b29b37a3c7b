import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { runWalkthrough, WALKTHROUGH_OUTPUT } from '../helpers/readme-walkthrough';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { jobs: 'run' });
});

afterAll(() => platform.stop());

describe('README walkthrough', () => {
  test('uploads a file, makes an image, registers an algorithm and submits a job against local mode', async () => {
    const result = await runWalkthrough(`${platform.urls.api}/v1`);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(WALKTHROUGH_OUTPUT);
  });
});
