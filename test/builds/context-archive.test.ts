import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ContextLimits,
  ContextRefusal,
  extractContext,
} from '../../containers/builds/builder/context-archive';
import { modelTarball, TarEntry } from '../../packages/image-io/test/helpers/tar-archive';
import { buildZip, ZipEntrySpec } from '../../packages/image-io/test/helpers/zip-builder';

const LIMITS: ContextLimits = { entries: 100, extractedBytes: 1024 * 1024 };
const DOCKERFILE = { name: 'Dockerfile', content: 'FROM scratch\n' };

let work: string;
beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'context-archive-'))));
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** Extracts `archive` (written to disk first) into an empty folder of the test's own. */
async function extract(archive: Buffer, options: { dockerfile?: string; limits?: ContextLimits } = {}) {
  const file = fs.mkdtempSync(path.join(work, 'archive-')) + '/context';
  fs.writeFileSync(file, archive);
  const dir = fs.mkdtempSync(path.join(work, 'extracted-'));
  const context = await extractContext(file, dir, {
    dockerfile: options.dockerfile ?? 'Dockerfile',
    limits: options.limits ?? LIMITS,
  });
  return { ...context, dir };
}

const tar = (entries: TarEntry[]) => modelTarball(entries);
const zip = (entries: ZipEntrySpec[]) =>
  buildZip(entries.map((e) => ({ ...e, content: e.content ?? Buffer.alloc(0) })));
const zipFile = (name: string, content: string) => ({ name, content: Buffer.from(content) });

describe('a build context archive', () => {
  test('a zip is extracted with its folders, modes and links inside the context', async () => {
    const { root, dockerfile, dir } = await extract(
      zip([
        zipFile('Dockerfile', 'FROM scratch\n'),
        { name: 'src/', mode: 0o040755 },
        { ...zipFile('src/run.sh', 'echo hi\n'), mode: 0o100755 },
        { ...zipFile('latest', 'src/run.sh'), mode: 0o120777 },
        { ...zipFile('src/up', '../Dockerfile'), mode: 0o120777 },
      ]),
    );
    expect({ root, dockerfile }).toEqual({ root: dir, dockerfile: 'Dockerfile' });
    expect(fs.statSync(path.join(root, 'src/run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(root, 'latest'))).toBe('src/run.sh');
    expect(fs.readFileSync(path.join(root, 'src/up'), 'utf8')).toBe('FROM scratch\n');
  });

  test('a gzipped tar is extracted, hard links to its own files included', async () => {
    const { root } = await extract(
      tar([
        { name: './', type: '5' },
        { name: './Dockerfile', content: 'FROM scratch\n' },
        { name: './app/', type: '5' },
        { name: './app/model.tar.gz', content: 'weights' },
        { name: './app/same', type: '1', linkName: './app/model.tar.gz' },
        { name: './app/lib', type: '2', linkName: '.' },
      ]),
    );
    expect(fs.readFileSync(path.join(root, 'app/same'), 'utf8')).toBe('weights');
    expect(fs.statSync(path.join(root, 'app/same')).nlink).toBe(2);
    expect(fs.readlinkSync(path.join(root, 'app/lib'))).toBe('.');
  });

  test('one folder wrapping everything is the context when the Dockerfile is in it', async () => {
    const { root, dir } = await extract(
      zip([
        { name: 'myfolder/', mode: 0o040755 },
        zipFile('myfolder/Dockerfile', 'FROM scratch\n'),
        zipFile('myfolder/app.py', 'print(1)\n'),
        zipFile('__MACOSX/myfolder/._Dockerfile', 'x'),
      ]),
    );
    expect(root).toBe(path.join(dir, 'myfolder'));
    expect(fs.existsSync(path.join(root, 'app.py'))).toBe(true);
  });

  test('a Dockerfile elsewhere is found at the path given', async () => {
    const { dockerfile } = await extract(
      tar([{ name: 'docker/Dockerfile.gpu', content: 'FROM scratch\n' }]),
      { dockerfile: 'docker/Dockerfile.gpu' },
    );
    expect(dockerfile).toBe('docker/Dockerfile.gpu');
  });

  test.each<[string, Buffer, string]>([
    [
      'an absolute path',
      tar([DOCKERFILE, { name: '/etc/cron.d/x', content: 'x' }]),
      '"/etc/cron.d/x", whose path leaves',
    ],
    [
      'a .. escape',
      zip([zipFile('Dockerfile', 'FROM scratch'), zipFile('a/../../x', 'x')]),
      '"a/../../x", whose path leaves',
    ],
    [
      'a backslash',
      zip([zipFile('Dockerfile', 'FROM scratch'), zipFile('..\\x', 'x')]),
      '"..\\x", whose path leaves',
    ],
    ['a drive letter', tar([DOCKERFILE, { name: 'C:/x', content: 'x' }]), '"C:/x", whose path leaves'],
    [
      'a symbolic link out of the context',
      tar([DOCKERFILE, { name: 'etc', type: '2', linkName: '/etc' }]),
      'the symbolic link "etc" to "/etc", outside the context',
    ],
    [
      'a symbolic link up and out',
      zip([zipFile('Dockerfile', 'FROM scratch'), { ...zipFile('a/b', '../../x'), mode: 0o120777 }]),
      'the symbolic link "a/b" to "../../x", outside the context',
    ],
    [
      'a symbolic link out through another link',
      tar([
        DOCKERFILE,
        { name: 'a/b', type: '2', linkName: '..' },
        { name: 'c', type: '2', linkName: 'a/b/..' },
      ]),
      'the symbolic link "c" to "a/b/..", outside the context',
    ],
    [
      'a loop of links',
      tar([DOCKERFILE, { name: 'a', type: '2', linkName: 'b' }, { name: 'b', type: '2', linkName: 'a/x' }]),
      'is in a loop of links',
    ],
    [
      'a hard link out of the context',
      tar([DOCKERFILE, { name: 'passwd', type: '1', linkName: '../../etc/passwd' }]),
      'the hard link "passwd" to "../../etc/passwd", outside the context',
    ],
    [
      'a hard link to a missing entry',
      tar([DOCKERFILE, { name: 'copy', type: '1', linkName: 'nothing' }]),
      'the hard link "copy" to "nothing", which is not a file in it',
    ],
    ['a device', tar([DOCKERFILE, { name: 'sda', type: '3' }]), '"sda", a device or pipe'],
    ['a fifo', tar([DOCKERFILE, { name: 'pipe', type: '6' }]), '"pipe", a device or pipe'],
    [
      'a zip fifo',
      zip([zipFile('Dockerfile', 'FROM scratch'), { name: 'pipe', mode: 0o010644 }]),
      '"pipe", a device or pipe',
    ],
    [
      'a file written through a link',
      tar([DOCKERFILE, { name: 'a', type: '2', linkName: 'sub' }, { name: 'a/x', content: 'x' }]),
      'entry "a/x" is inside the symbolic link "a"',
    ],
    ['an entry twice', tar([DOCKERFILE, DOCKERFILE]), '"Dockerfile" twice'],
    [
      'no Dockerfile',
      tar([{ name: 'app.py', content: 'x' }]),
      'the build context has no Dockerfile at "Dockerfile"',
    ],
    [
      'a Dockerfile that is a link',
      tar([
        { name: 'real', content: 'FROM scratch' },
        { name: 'Dockerfile', type: '2', linkName: 'real' },
      ]),
      'Dockerfile "Dockerfile" is a symbolic link, not a file',
    ],
    [
      'a wrapping folder without the Dockerfile',
      tar([
        { name: 'ctx/', type: '5' },
        { name: 'ctx/app.py', content: 'x' },
      ]),
      'no Dockerfile at "Dockerfile" (nor at "ctx/Dockerfile")',
    ],
    [
      'something else',
      Buffer.from('Dockerfile: FROM scratch'),
      'neither a zip archive nor a gzipped tar archive',
    ],
  ])('%s refuses the whole archive', async (_case, archive, reason) => {
    const refusal = extract(archive);
    await expect(refusal).rejects.toThrow(ContextRefusal);
    await expect(refusal).rejects.toThrow(reason);
    // The reason is the entry's, not a damaged archive's.
    await expect(refusal).rejects.not.toThrow(/damaged|cannot be read/);
  });

  test('a Dockerfile path that leaves the context is refused', async () => {
    await expect(extract(tar([DOCKERFILE]), { dockerfile: '../Dockerfile' })).rejects.toThrow(
      'the Dockerfile path "../Dockerfile" is not a file path inside the build context',
    );
  });

  test('an archive that is not there is refused naming it', async () => {
    await expect(
      extractContext(path.join(work, 'missing.zip'), work, { dockerfile: 'Dockerfile', limits: LIMITS }),
    ).rejects.toThrow(/^the build context cannot be read: ENOENT: .*missing\.zip/);
  });

  test('no link is made when the archive is refused', async () => {
    const file = path.join(work, 'context');
    fs.writeFileSync(
      file,
      tar([
        DOCKERFILE,
        { name: 'ok', type: '2', linkName: 'Dockerfile' },
        { name: 'etc', type: '2', linkName: '/etc' },
      ]),
    );
    const dir = path.join(work, 'extracted');
    fs.mkdirSync(dir);
    await expect(extractContext(file, dir, { dockerfile: 'Dockerfile', limits: LIMITS })).rejects.toThrow(
      '"etc"',
    );
    expect(fs.readdirSync(dir)).toEqual(['Dockerfile']);
  });

  test('more entries than the limit are refused, folders counted', async () => {
    const entries = [DOCKERFILE, { name: 'a/', type: '5' }, { name: 'a/x', content: 'x' }];
    await expect(extract(tar(entries), { limits: { ...LIMITS, entries: 2 } })).rejects.toThrow(
      'the build context has more than 2 entries',
    );
    await expect(
      extract(zip([zipFile('Dockerfile', 'FROM scratch'), zipFile('x', 'x'), zipFile('y', 'y')]), {
        limits: { ...LIMITS, entries: 2 },
      }),
    ).rejects.toThrow('the build context has more than 2 entries');
  });

  test('more bytes than the limit are refused while extracting, whatever the headers say', async () => {
    const big = Buffer.alloc(64 * 1024, 'a');
    await expect(
      extract(zip([zipFile('Dockerfile', 'FROM scratch'), { name: 'big', content: big }]), {
        limits: { ...LIMITS, extractedBytes: 32 * 1024 },
      }),
    ).rejects.toThrow(`the build context expands beyond ${32 * 1024} bytes`);
    await expect(
      extract(tar([DOCKERFILE, { name: 'big', content: big }]), {
        limits: { ...LIMITS, extractedBytes: 32 * 1024 },
      }),
    ).rejects.toThrow(`the build context expands beyond ${32 * 1024} bytes`);
  });

  test('a zip whose header understates an entry is refused', async () => {
    const archive = zip([zipFile('Dockerfile', 'FROM scratch'), zipFile('big', 'a'.repeat(10_000))]);
    // The central directory's uncompressed size of "big", as a bomb would state it.
    const central = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    archive.writeUInt32LE(10, central + 24);
    await expect(extract(archive)).rejects.toThrow('"big"');
  });
});
