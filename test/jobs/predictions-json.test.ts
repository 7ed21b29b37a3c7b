import { Socket } from '../../lambda/algorithms/algorithm-record';
import { inputsJsonSocket } from '../../lambda/jobs/inputs-json';
import {
  algorithmImageName,
  isoDuration,
  ManifestPrediction,
  predictionsJson,
} from '../../lambda/jobs/predictions-json';

const JOB = '3f1c2b4a-0000-4000-8000-00000000000a';
const VERSION = '9d8e7f6a-1111-4000-8000-00000000000b';
const CT = '7f0e6c52-2222-4000-8000-00000000000c';
const MASK = 'b0b1b2b3-3333-4000-8000-00000000000d';
const DIGEST = 'c0ffee12' + '3'.repeat(56);

const socket = (slug: string, kind: Socket['kind'], relativePath: string): Socket => ({
  slug,
  kind,
  relativePath,
});
const ct = socket('ct-image', 'image', 'images/ct');
const threshold = socket('threshold', 'json', 'threshold.json');
const mask = socket('mask', 'image', 'images/mask');
const results = socket('results', 'json', 'results.json');
const report = socket('report', 'pdf', 'report.pdf');
const big = socket('big-values', 'json', 'big-values.json');

/** A job that thresholded a CT: its inputs as its manifest placed them, its outputs under `<pk>/output/`. */
const prediction: ManifestPrediction = {
  jobId: JOB,
  algorithmVersionId: VERSION,
  image: `localhost/threshold@sha256:${DIGEST}`,
  startedAt: '2026-01-02T03:04:05.000Z',
  stoppedAt: '2026-01-02T03:05:10.250Z',
  inputs: [
    { socket: ct, path: `images/ct/${CT}.mha`, image: { pk: CT, name: 'ct.mha' } },
    { socket: threshold, path: 'threshold.json', value: 100 },
  ],
  outputs: [
    {
      socket: mask,
      path: `${JOB}/output/images/mask/${MASK}.mha`,
      key: 'jobs/evaluation/inputs/predictions/0',
      image: { pk: MASK, name: 'output.mha' },
    },
    { socket: results, path: `${JOB}/output/results.json`, value: { foreground: 14 } },
    { socket: report, path: `${JOB}/output/report.pdf`, key: 'jobs/evaluation/inputs/predictions/1' },
    { socket: big, path: `${JOB}/output/big-values.json`, key: 'jobs/evaluation/inputs/predictions/2' },
  ],
};

/** grand-challenge's JobSerializer fields, in its order, without its pages' `url` and `api_url`. */
const JOB_FIELDS = [
  'pk',
  'algorithm_image',
  'inputs',
  'outputs',
  'status',
  'hanging_protocol',
  'optional_hanging_protocols',
  'view_content',
  'exec_duration',
  'invoke_duration',
];

describe("/input/predictions.json as grand-challenge's JobSerializer writes it", () => {
  const [job] = predictionsJson([prediction]);

  test("each job has the serializer's fields in its order, with what a succeeded job has here", () => {
    expect(Object.keys(job)).toEqual(JOB_FIELDS);
    expect(job).toMatchObject({
      pk: JOB,
      algorithm_image: 'Algorithm Image 9d8e7f6a (SHA256: c0ffee12)',
      status: 'Succeeded',
      hanging_protocol: null,
      optional_hanging_protocols: [],
      view_content: {},
      exec_duration: 'P0DT00H01M05.250000S',
      invoke_duration: null,
    });
  });

  test('inputs are listed as the job saw them, each value as inputs.json lists it', () => {
    expect(job.inputs).toEqual([
      {
        socket: inputsJsonSocket(threshold),
        interface: inputsJsonSocket(threshold),
        value: 100,
        file: null,
        image: null,
        pk: 2,
      },
      {
        socket: inputsJsonSocket(ct),
        interface: inputsJsonSocket(ct),
        value: null,
        file: null,
        image: { pk: CT, name: 'ct.mha' },
        pk: 1,
      },
    ]);
  });

  test("outputs are numbered after the inputs, listed in grand-challenge's order, files where they are in /input", () => {
    expect(job.outputs.map((o) => [o.interface.slug, o.pk, o.value, o.file, o.image])).toEqual([
      // JSON values first, by slug: a value too large to keep inline is a file, as there.
      ['big-values', 6, null, `/input/${JOB}/output/big-values.json`, null],
      ['results', 4, { foreground: 14 }, null, null],
      ['report', 5, null, `/input/${JOB}/output/report.pdf`, null],
      ['mask', 3, null, null, { pk: MASK, name: 'output.mha' }],
    ]);
    // What grand-challenge's evaluation template reads to find an output: the slug and its path.
    expect(job.outputs.find((o) => o.interface.slug === 'mask')!.interface.relative_path).toBe('images/mask');
  });

  test('jobs come in the order given; a job without start or stop has no duration', () => {
    const other = { ...prediction, jobId: CT, startedAt: undefined };
    expect(predictionsJson([other, prediction]).map((j) => [j.pk, j.exec_duration])).toEqual([
      [CT, null],
      [JOB, 'P0DT00H01M05.250000S'],
    ]);
    expect(predictionsJson([])).toEqual([]);
  });
});

describe("grand-challenge's names for what it serializes", () => {
  test.each([
    [0, 'P0DT00H00M00S'],
    [1500, 'P0DT00H00M01.500000S'],
    [90061001, 'P1DT01H01M01.001000S'],
    [-2000, '-P0DT00H00M02S'],
  ])('%d ms is Django\'s ISO duration "%s"', (ms, iso) => {
    expect(isoDuration(ms)).toBe(iso);
  });

  test('an image not named by digest has an unknown SHA256', () => {
    expect(algorithmImageName(VERSION, 'localhost/threshold:latest')).toBe(
      'Algorithm Image 9d8e7f6a (SHA256: Unknown)',
    );
  });
});
