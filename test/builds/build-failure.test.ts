import { BuildOutput } from '../../containers/builds/builder/build-failure';

function reason(lines: string[], exitCode = 1): string {
  const output = new BuildOutput();
  lines.forEach((line) => output.line(line));
  return output.reason(exitCode);
}

describe("why a build failed, from the engine's output", () => {
  test("BuildKit's failing step, by its vertex, with its own last lines", () => {
    expect(
      reason([
        '#5 [build 1/3] FROM docker.io/library/python:3.12',
        '#5 DONE 0.1s',
        '#6 [build 2/3] RUN pip install nothing-such',
        '#6 0.512 Collecting nothing-such',
        '#7 [stage-1 1/2] COPY app /app',
        '#7 DONE 0.0s',
        '#6 1.020 \u001b[31mERROR: No matching distribution found for nothing-such\u001b[0m',
        '#6 ERROR: process "/bin/sh -c pip install nothing-such" did not complete successfully: exit code: 1',
        '------',
        ' > [build 2/3] RUN pip install nothing-such:',
        '------',
        'ERROR: failed to solve: process "/bin/sh -c pip install nothing-such" did not complete successfully: exit code: 1',
      ]),
    ).toBe(
      'the Dockerfile failed at step 2/3 of stage build (RUN pip install nothing-such): exit code 1; last lines: Collecting nothing-such | ERROR: No matching distribution found for nothing-such',
    );
  });

  test("podman's failing step, with only its last 20 lines", () => {
    const output = Array.from({ length: 25 }, (_, i) => `line ${i}`);
    expect(
      reason([
        'STEP 1/3: FROM localhost/base',
        'STEP 2/3: RUN make',
        ...output,
        'Error: building at STEP "RUN make": while running runtime: exit status 2',
      ]),
    ).toBe(
      `the Dockerfile failed at step 2/3 (RUN make): exit code 2; last lines: ${output.slice(5).join(' | ')}`,
    );
  });

  test('a step that fails without an exit code says what the engine said', () => {
    expect(
      reason(
        [
          'STEP 1/2: FROM localhost/missing',
          'Error: creating build container: localhost/missing: image not known',
        ],
        125,
      ),
    ).toBe(
      'the Dockerfile failed at step 1/2 (FROM localhost/missing): creating build container: localhost/missing: image not known',
    );
  });

  test('a failure before any step says so, with the last lines', () => {
    expect(reason(['unknown instruction: FORM', 'Error: parsing Dockerfile'], 125)).toBe(
      'the Dockerfile could not be built: parsing Dockerfile; last lines: unknown instruction: FORM',
    );
  });
});
