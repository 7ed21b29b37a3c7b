import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContextError, packBuildContext } from '../../bin/builds/build-context';
import { newLines } from '../../bin/builds/build-follow';
import { pushAlgorithm } from '../../bin/builds/push-algorithm';
import { freePorts } from '../helpers/free-ports';

const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'push-algorithm-test-'));

/** A folder with `files` (text by path; a `->` value makes a symbolic link to it). */
function folder(files: Record<string, string>): string {
  const root = temp();
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (content.startsWith('-> ')) fs.symlinkSync(content.slice(3), file);
    else fs.writeFileSync(file, content);
  }
  return root;
}

/** Packs `root` and extracts it with the system's tar: what a build would see. */
async function packAndExtract(root: string, dockerfile?: string) {
  const archive = path.join(temp(), 'context.tar.gz');
  const packed = await packBuildContext(root, archive, { dockerfile });
  const out = temp();
  execFileSync('tar', ['-xzf', archive, '-C', out]);
  const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
  return { packed, out, listed };
}

describe('packing a build context', () => {
  test(".dockerignore is honoured with Docker's rules, `!` exceptions included", async () => {
    const root = folder({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'node_modules\n*.log\n!keep.log\ndata/**\n!data/wanted.txt\n**/secret.txt\n',
      'app.js': 'console.log(1)',
      'a.log': 'noise',
      'keep.log': 'kept',
      'node_modules/dep/index.js': 'x',
      'data/big.bin': 'big',
      'data/wanted.txt': 'wanted',
      'src/deep/secret.txt': 'secret',
      'src/deep/code.js': 'code',
    });
    const { out, listed } = await packAndExtract(root);
    const files = listed.filter((name) => !name.endsWith('/')).sort();
    expect(files).toEqual([
      '.dockerignore',
      'Dockerfile',
      'app.js',
      'data/wanted.txt',
      'keep.log',
      'src/deep/code.js',
    ]);
    expect(fs.readFileSync(path.join(out, 'data/wanted.txt'), 'utf8')).toBe('wanted');
    expect(fs.existsSync(path.join(out, 'node_modules'))).toBe(false);
  });

  test('the Dockerfile and .dockerignore go even where .dockerignore excludes them', async () => {
    const root = folder({
      'build/Containerfile': 'FROM scratch\n',
      '.dockerignore': 'build\n.dockerignore\n',
      'app.js': 'x',
    });
    const { listed } = await packAndExtract(root, 'build/Containerfile');
    expect(listed).toEqual(expect.arrayContaining(['build/Containerfile', '.dockerignore', 'app.js']));
  });

  test('symbolic links are kept as links; long and non-ASCII names survive', async () => {
    const long = `${'deep/'.repeat(25)}file-ä.txt`;
    const root = folder({
      Dockerfile: 'FROM scratch\n',
      'app.js': 'the app',
      'current.js': '-> app.js',
      outside: '-> ../../etc/passwd',
      [long]: 'far down',
    });
    const { out } = await packAndExtract(root);
    expect(fs.lstatSync(path.join(out, 'current.js')).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(out, 'current.js'))).toBe('app.js');
    // A link is packed as it is; the builder judges where it points.
    expect(fs.readlinkSync(path.join(out, 'outside'))).toBe('../../etc/passwd');
    expect(fs.readFileSync(path.join(out, long), 'utf8')).toBe('far down');
  });

  test('a folder without its Dockerfile is refused', async () => {
    const root = folder({ 'app.js': 'x' });
    await expect(packBuildContext(root, path.join(temp(), 'c.tar.gz'))).rejects.toThrow(ContextError);
    await expect(packBuildContext(root, path.join(temp(), 'c.tar.gz'))).rejects.toThrow(/has no Dockerfile/);
    await expect(
      packBuildContext(folder({ Dockerfile: 'x' }), path.join(temp(), 'c.tar.gz'), {
        dockerfile: '../Dockerfile',
      }),
    ).rejects.toThrow(/outside the context/);
  });
});

describe('npm run push-algorithm', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await pushAlgorithm(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err: err.join('\n') };
  };

  test('usage errors exit 2 and say what is wrong', async () => {
    const root = folder({ Dockerfile: 'FROM scratch\n' });
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringMatching(/name one folder/) });
    expect(await run([root], { AUTH: 'Authorization: Bearer dev-alice' })).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--algorithm <id> is required/),
    });
    expect(await run([root, '--algorithm', 'a'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/no token/),
    });
    expect(await run([root, '--algorithm', 'a', '--nonsense'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/nonsense/),
    });
  });

  test('a folder without the Dockerfile is refused before anything is sent', async () => {
    const [port] = await freePorts(1);
    const root = folder({ 'app.js': 'x' });
    const result = await run([
      root,
      '--algorithm',
      'a',
      '--api',
      `http://127.0.0.1:${port}/v1`,
      '--token',
      'dev-alice',
    ]);
    expect(result).toMatchObject({ code: 2, err: expect.stringMatching(/has no Dockerfile/) });
  });

  test('only new lines of a sliding log tail are printed', () => {
    expect(newLines([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(newLines(['a', 'b'], ['a', 'b', 'c'])).toEqual(['c']);
    expect(newLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    expect(newLines(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(newLines(['x'], ['y'])).toEqual(['y']);
  });
});
