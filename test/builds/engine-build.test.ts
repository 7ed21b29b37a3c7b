import { engineBuildArgs } from '../../containers/builds/builder/engine-build';

describe("the builder's build arguments", () => {
  const engine = (command: string) => ({ command, runArgs: [] });

  test('podman: linux/amd64, no step cached or reused, and no pull where none is possible', () => {
    expect(engineBuildArgs(engine('podman'), { pullNever: true })).toEqual([
      '--platform',
      'linux/amd64',
      '--layers=false',
      '--pull=never',
    ]);
    expect(engineBuildArgs(engine('podman'), { pullNever: false })).not.toContain('--pull=never');
  });

  test('docker: linux/amd64, no cache, one manifest, and no pull policy it does not have', () => {
    expect(engineBuildArgs(engine('docker'), { pullNever: true })).toEqual([
      '--platform',
      'linux/amd64',
      '--no-cache',
      '--provenance=false',
    ]);
  });
});
