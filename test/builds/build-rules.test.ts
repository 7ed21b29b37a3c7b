import { buildResult, failureReason } from '../../lambda/builds/build-logs';
import { checkDockerfilePath, contextFormat } from '../../lambda/builds/build-record';

describe("the builder's report", () => {
  const log = [
    'BUILD_PHASE extract',
    'BUILD_FAILED an early reason',
    'BUILD_PHASE build',
    'Step 3/7 : RUN make',
    'BUILD_FAILED the Dockerfile failed at RUN make (exit code 2)',
  ];

  test("a failure's reason is the last BUILD_FAILED line's", () => {
    expect(failureReason(log)).toBe('the Dockerfile failed at RUN make (exit code 2)');
    expect(failureReason(['Step 1/2', 'error'])).toBeUndefined();
  });

  test('the result is the last BUILD_RESULT, with only the phases the contract knows', () => {
    const line = `BUILD_RESULT ${JSON.stringify({
      image: 'localhost/local/algorithms@sha256:' + 'a'.repeat(64),
      digest: 'sha256:' + 'a'.repeat(64),
      sizeBytes: 1234,
      phaseSeconds: { extract: 1.5, build: 20, push: 3, other: 9 },
    })}`;
    expect(buildResult(['BUILD_PHASE push', line])).toEqual({
      image: 'localhost/local/algorithms@sha256:' + 'a'.repeat(64),
      digest: 'sha256:' + 'a'.repeat(64),
      sizeBytes: 1234,
      phaseSeconds: { extract: 1.5, build: 20, push: 3 },
    });
    expect(buildResult(['BUILD_RESULT {not json'])).toBeUndefined();
    expect(buildResult(['BUILD_RESULT {"image": 1}'])).toBeUndefined();
  });
});

describe('what a build is pushed with', () => {
  test.each(['Dockerfile', 'docker/Dockerfile.gpu', 'a b/Dockerfile'])(
    'the Dockerfile %s is inside the context',
    (path) => {
      expect(checkDockerfilePath(path)).toBe(path);
    },
  );

  test.each([
    '../Dockerfile',
    'a/../../Dockerfile',
    '/Dockerfile',
    './Dockerfile',
    'a//Dockerfile',
    'a\\Dockerfile',
    'a/',
  ])('the Dockerfile %s is refused', (path) => {
    expect(() => checkDockerfilePath(path)).toThrow('must be a relative path inside the context');
  });

  test('contexts are zip or gzip-compressed tar archives, by name', () => {
    expect(contextFormat('Context.ZIP')).toBe('.zip');
    expect(contextFormat('context.tgz')).toBe('.tgz');
    expect(contextFormat('context.tar.gz')).toBe('.tar.gz');
    expect(() => contextFormat('context.tar')).toThrow('must end with .zip, .tar.gz, .tgz');
  });
});
