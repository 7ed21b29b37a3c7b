import { Socket, SocketKind } from '../../lambda/algorithms/algorithm-record';
import { inputsJson, socketPk } from '../../lambda/jobs/inputs-json';
import { JobManifest, ManifestInput } from '../../lambda/jobs/job-manifest';

const JOB = 'a2b5c7d9-0000-4000-8000-000000000001';
const IMAGE = '7f0e6c52-1111-4000-8000-000000000002';

function manifest(inputs: ManifestInput[]): JobManifest {
  const sockets = inputs.map((i) => i.socket);
  return {
    jobId: JOB,
    image: 'localhost/algorithm@sha256:' + '0'.repeat(64),
    timeLimitSeconds: 3600,
    memoryGb: 8,
    gpu: false,
    interface: {
      inputs: sockets,
      outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
    },
    inputs,
  };
}

const socket = (slug: string, kind: SocketKind, relativePath: string): Socket => ({
  slug,
  kind,
  relativePath,
});

/** An input as submit-job places it for each kind: images by id and name, files by copy, values inline. */
function placed(slug: string, kind: SocketKind, relativePath: string): ManifestInput {
  const s = socket(slug, kind, relativePath);
  if (kind === 'image') {
    return {
      socket: s,
      path: `${relativePath}/${IMAGE}.mha`,
      key: `jobs/${JOB}/inputs/0`,
      image: { pk: IMAGE, name: 'ct.mha' },
    };
  }
  if (kind === 'json') return { socket: s, path: relativePath, value: { threshold: 0.5 } };
  return { socket: s, path: relativePath, key: `jobs/${JOB}/inputs/1`, file: 'upload-id' };
}

/** grand-challenge's ComponentInterfaceSerializer fields, in its order. */
const SOCKET_FIELDS = [
  'title',
  'description',
  'slug',
  'kind',
  'pk',
  'default_value',
  'super_kind',
  'relative_path',
  'overlay_segments',
  'look_up_table',
];

describe('/input/inputs.json as grand-challenge writes it', () => {
  test.each([
    [
      'image',
      'images/ct-image',
      'Image',
      'Image',
      { value: null, file: null, image: { pk: IMAGE, name: 'ct.mha' } },
    ],
    ['json', 'threshold.json', 'Anything', 'Value', { value: { threshold: 0.5 }, file: null, image: null }],
    ['csv', 'table.csv', 'CSV file', 'File', { value: null, file: '/input/table.csv', image: null }],
    ['zip', 'bundle.zip', 'ZIP file', 'File', { value: null, file: '/input/bundle.zip', image: null }],
    ['pdf', 'report.pdf', 'PDF file', 'File', { value: null, file: '/input/report.pdf', image: null }],
    ['png', 'preview.png', 'Thumbnail png', 'File', { value: null, file: '/input/preview.png', image: null }],
    ['jpeg', 'photo.jpg', 'Thumbnail jpg', 'File', { value: null, file: '/input/photo.jpg', image: null }],
    ['txt', 'notes.txt', 'TXT file', 'File', { value: null, file: '/input/notes.txt', image: null }],
  ] as const)(
    'a %s socket: kind and super kind by their names there, and its value',
    (kind, path, name, superKind, value) => {
      const [entry] = inputsJson(manifest([placed('the-input', kind, path)]));
      expect(entry).toEqual({
        socket: {
          title: 'the-input',
          description: '',
          slug: 'the-input',
          kind: name,
          pk: socketPk('the-input'),
          default_value: null,
          super_kind: superKind,
          relative_path: path,
          overlay_segments: [],
          look_up_table: null,
        },
        interface: entry.socket,
        ...value,
        pk: 1,
      });
    },
  );

  test('each entry has socket, interface, value, file, image and pk, and its socket the fields grand-challenge gives', () => {
    const [entry] = inputsJson(manifest([placed('ct-image', 'image', 'images/ct')]));
    expect(Object.keys(entry)).toEqual(['socket', 'interface', 'value', 'file', 'image', 'pk']);
    expect(Object.keys(entry.socket)).toEqual(SOCKET_FIELDS);
    expect(Object.keys(entry.interface)).toEqual(SOCKET_FIELDS);
    // Through JSON, as the algorithm reads it, the two keys stay the same object.
    const read = JSON.parse(JSON.stringify([entry]));
    expect(read[0].interface).toEqual(read[0].socket);
  });

  test('values come first, then thumbnails, then files, then images, each by slug, whatever the order given', () => {
    const entries = inputsJson(
      manifest([
        placed('z-scan', 'image', 'images/z-scan'),
        placed('b-table', 'csv', 'b-table.csv'),
        placed('a-scan', 'image', 'images/a-scan'),
        placed('m-preview', 'png', 'm-preview.png'),
        placed('y-threshold', 'json', 'y-threshold.json'),
        placed('a-report', 'pdf', 'a-report.pdf'),
        placed('c-threshold', 'json', 'c-threshold.json'),
      ]),
    );
    expect(entries.map((e) => e.socket.slug)).toEqual([
      'c-threshold',
      'y-threshold',
      'm-preview',
      'a-report',
      'b-table',
      'a-scan',
      'z-scan',
    ]);
    // Each value keeps its own number, distinct from the others'.
    expect(new Set(entries.map((e) => e.pk)).size).toBe(entries.length);
    expect(entries.find((e) => e.socket.slug === 'z-scan')!.pk).toBe(1);
  });

  test('a socket has the same number in every job, and different sockets different numbers', () => {
    const first = inputsJson(manifest([placed('ct-image', 'image', 'images/ct')]));
    const second = inputsJson(
      manifest([placed('threshold', 'json', 'threshold.json'), placed('ct-image', 'image', 'images/ct')]),
    );
    expect(second[1].socket.pk).toBe(first[0].socket.pk);
    expect(second[0].socket.pk).not.toBe(second[1].socket.pk);
    expect(Number.isSafeInteger(first[0].socket.pk)).toBe(true);
  });

  test('a JSON value that is null or false is written as given', () => {
    const entries = inputsJson(
      manifest([
        { socket: socket('flag', 'json', 'flag.json'), path: 'flag.json', value: false },
        { socket: socket('nothing', 'json', 'nothing.json'), path: 'nothing.json', value: null },
      ]),
    );
    expect(entries.map((e) => e.value)).toEqual([false, null]);
  });
});
