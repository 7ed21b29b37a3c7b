import { builderOptions, runBuilder } from '../../containers/builds/builder/run-builder';
import { containerEngine } from '../../containers/jobs/runner/image-engine';

describe("the builder's environment", () => {
  const limits = {
    BUILD_CONTEXT_BYTES: '1000',
    BUILD_CONTEXT_ENTRIES: '10',
    BUILD_CONTEXT_EXTRACTED_BYTES: '2000',
    BUILDS_PER_USER: '2',
    BUILD_TIMEOUT_MINUTES: '60',
  };

  test('is read with the Dockerfile at the root unless named', () => {
    const options = builderOptions({
      CONTEXT_ARCHIVE: 'context.tar.gz',
      IMAGE_REPOSITORY: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/platform-algorithms',
      IMAGE_TAG: 'build-abc',
      CONTAINER_ENGINE: 'docker',
      PULL_NEVER: 'false',
      PUSH: 'true',
      ...limits,
    });
    expect(options).toMatchObject({
      contextArchive: 'context.tar.gz',
      dockerfile: 'Dockerfile',
      tag: 'build-abc',
      engine: { command: 'docker' },
      pullNever: false,
      push: true,
      limits: { entries: 10, extractedBytes: 2000 },
    });
  });

  test('names every variable that is missing or wrong', () => {
    expect(() =>
      builderOptions({ IMAGE_TAG: 'a tag', PUSH: 'yes', ...limits, BUILD_CONTEXT_ENTRIES: '0' }),
    ).toThrow(
      'the builder cannot start: CONTEXT_ARCHIVE is not set; IMAGE_REPOSITORY is not set; CONTAINER_ENGINE is not set; PULL_NEVER must be true or false; PUSH must be true or false; IMAGE_TAG is not an image tag ("a tag"); the build limits cannot be read: BUILD_CONTEXT_ENTRIES must be a positive whole number (is "0")',
    );
  });

  test('a build stopped before it starts reports so and touches nothing', async () => {
    const lines: string[] = [];
    const stopped = new AbortController();
    stopped.abort();
    const outcome = await runBuilder(
      {
        ...builderOptions({
          CONTEXT_ARCHIVE: '/nonexistent/context.zip',
          IMAGE_REPOSITORY: 'localhost/stopped-algorithms',
          IMAGE_TAG: 'build-stopped',
          CONTAINER_ENGINE: 'docker',
          PULL_NEVER: 'true',
          PUSH: 'false',
          ...limits,
        }),
        // An engine that would fail if it were called.
        engine: containerEngine('/nonexistent/engine'),
        signal: stopped.signal,
      },
      (line) => lines.push(line),
    );
    expect(outcome).toEqual({ failed: 'the build was stopped' });
    expect(lines).toEqual(['BUILD_FAILED the build was stopped']);
  });
});
