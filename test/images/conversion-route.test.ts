import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { conversionRoute } from '../../lambda/images/conversion-route';
import { converterFailure } from '../../lambda/images/converter-failure';
import { CONVERTER_JOBS } from '../../lambda/contracts/converter-jobs';
import { readWholeFile } from '@imaging-platform/image-io';

const MiB = 1024 ** 2;
const file = (filename: string, size = 1000) => ({ filename, size });

describe('which converter takes a set', () => {
  test('a small set of volumes stays in the function', () => {
    expect(conversionRoute([file('ct.nii.gz'), file('a.dcm'), file('b.dcm'), file('set.zip')], MiB)).toEqual({
      converter: 'function',
    });
  });

  test('a set of exactly the bound stays; one byte more goes to the container', () => {
    expect(conversionRoute([file('a.mha', MiB / 2), file('b.mha', MiB / 2)], MiB).converter).toBe('function');
    expect(conversionRoute([file('a.mha', MiB / 2), file('b.mha', MiB / 2 + 1)], MiB)).toEqual({
      converter: 'container',
      why: `${MiB + 1} bytes exceed the function's ${MiB}`,
    });
  });

  test.each(['photo.PNG', 'scan.jpg', 'scan.jpeg', 'slide.svs', 'slide.tif', 'slide.tiff'])(
    'a set holding %s goes to the container, however small',
    (name) => {
      expect(conversionRoute([file('ct.mha'), file(name, 10)], MiB)).toEqual({
        converter: 'container',
        why: `${name} needs libvips`,
      });
    },
  );
});

describe('why a converter job failed, in words for the image and as a category', () => {
  test.each([
    [{ statusReason: 'Job attempt duration exceeded timeout' }, 'it ran past its time limit', 'TimedOut'],
    [
      { statusReason: 'Essential container in task exited', container: { exitCode: 137 } },
      'it ran out of memory',
      'OutOfMemory',
    ],
    [
      {
        statusReason: 'Essential container in task exited',
        container: { reason: 'OutOfMemoryError: Container killed' },
      },
      'it ran out of memory',
      'OutOfMemory',
    ],
    [
      { statusReason: 'ResourceInitializationError: unable to pull secrets or registry auth' },
      'it could not start (ResourceInitializationError: unable to pull secrets or registry auth)',
      'CouldNotStart',
    ],
    [
      { statusReason: 'Essential container in task exited', attempts: [{ container: { exitCode: 1 } }] },
      'it exited with code 1',
      'Crashed',
    ],
    [{ statusReason: 'Terminated by the platform team' }, 'Terminated by the platform team', 'Other'],
  ])('%j: %s (%s)', (detail, description, reason) => {
    expect(converterFailure({ jobId: 'j', jobQueue: 'q', status: 'FAILED', ...detail })).toEqual({
      description,
      reason,
    });
  });
});

describe('converter settings of the function', () => {
  const env = { CONVERTER_JOB_QUEUE: 'q', CONVERTER_JOB_DEFINITION: 'd', LAMBDA_MAX_SET_BYTES: '1048576' };

  test('are read from the variables the api stack sets', () => {
    expect(CONVERTER_JOBS.parse(env)).toEqual({
      converterJobQueue: 'q',
      converterJobDefinition: 'd',
      lambdaMaxSetBytes: MiB,
    });
  });

  test('a missing or bad variable is named', () => {
    expect(() => CONVERTER_JOBS.parse({ ...env, CONVERTER_JOB_QUEUE: '' })).toThrow(
      'CONVERTER_JOB_QUEUE must not be empty',
    );
    expect(() => CONVERTER_JOBS.parse({ ...env, CONVERTER_JOB_QUEUE: undefined })).toThrow(
      'CONVERTER_JOB_QUEUE is not set',
    );
    expect(() => CONVERTER_JOBS.parse({ ...env, LAMBDA_MAX_SET_BYTES: '1.5' })).toThrow(
      'LAMBDA_MAX_SET_BYTES must be a positive whole number',
    );
  });
});

test('a downloaded file is read back whole', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'read-whole-'));
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
  fs.writeFileSync(path.join(folder, '0'), bytes);
  expect(readWholeFile(path.join(folder, '0')).equals(bytes)).toBe(true);
  fs.rmSync(folder, { recursive: true });
});
