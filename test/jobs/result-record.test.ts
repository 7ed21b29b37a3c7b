import { parseLenientJson } from '../../lambda/jobs/job-outcome';
import { newResultSigningKey, ResultRecord, signResult, verifyResult } from '../../lambda/jobs/result-record';

const jobId = '5f0c3d6e-8a9b-4c1d-9e2f-0a1b2c3d4e5f';
const record: ResultRecord = {
  jobId,
  returnCode: 0,
  execDuration: 12.5,
  timedOut: false,
  outputs: [{ path: 'results.json', key: `jobs/${jobId}/outputs/results.json`, bytes: 2, sha256: 'ab' }],
};

describe('signed result records', () => {
  const key = newResultSigningKey();

  test('a record signed with the job key verifies', () => {
    expect(verifyResult(signResult(record, key), key, jobId)).toEqual(record);
  });

  test.each([
    ['signed with another key', () => signResult(record, newResultSigningKey()), /signature does not match/],
    [
      'changed after signing',
      () => {
        const envelope = JSON.parse(signResult(record, key));
        envelope.record = envelope.record.replace('"returnCode":0', '"returnCode":1');
        return JSON.stringify(envelope);
      },
      /signature does not match/,
    ],
    ['for another job', () => signResult({ ...record, jobId: 'another' }, key), /is for job another/],
    ['not JSON', () => 'returnCode=0', /not JSON/],
    ['without a signature', () => JSON.stringify({ record: JSON.stringify(record) }), /no signed body/],
  ])('a record %s is refused', (_, stored, reason) => {
    expect(() => verifyResult(stored(), key, jobId)).toThrow(reason);
  });
});

describe('JSON as Python writes it', () => {
  test('NaN and the infinities outside strings become null; inside strings they stay', () => {
    expect(parseLenientJson('{"a": NaN, "b": [Infinity, -Infinity, 1], "c": "NaN and Infinity"}')).toEqual({
      a: null,
      b: [null, null, 1],
      c: 'NaN and Infinity',
    });
    expect(parseLenientJson('"escaped \\" NaN"')).toBe('escaped " NaN');
  });

  test('anything else that is not JSON is still refused', () => {
    expect(() => parseLenientJson('{"a": nan}')).toThrow(SyntaxError);
  });
});
