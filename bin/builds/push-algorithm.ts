// `npm run push-algorithm -- <folder> --algorithm <id>`: packs a folder as a build context (its
// .dockerignore honoured), uploads it as a build of the algorithm, and follows the build to its
// end: exit 0 when it succeeded, 1 when it failed or was cancelled, 2 on a usage error.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ContextError, packBuildContext } from './build-context';
import { followBuild } from './build-follow';
import { ApiCaller, uploadFile } from './api-upload';
import { API_ACCESS_USAGE, apiAccess } from '../api-access';

const USAGE = `usage: npm run push-algorithm -- <folder> --algorithm <id> [--dockerfile <path>] [--api <url>] [--token <token>]

  <folder>            the build context: a Dockerfile and what it copies (.dockerignore honoured)
  --algorithm <id>    the algorithm that the build becomes a version of (you must be its editor)
  --dockerfile <path> the Dockerfile inside the folder (default: Dockerfile)
${API_ACCESS_USAGE}`;

class UsageError extends Error {}

interface PushOptions {
  readonly folder: string;
  readonly algorithm: string;
  readonly dockerfile: string;
  readonly api: string;
  readonly token: string;
}

export function pushOptions(argv: readonly string[], env: NodeJS.ProcessEnv): PushOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        algorithm: { type: 'string' },
        dockerfile: { type: 'string' },
        api: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) throw new UsageError('name one folder to push');
  if (!values.algorithm) throw new UsageError('--algorithm <id> is required');
  const { api, token } = apiAccess(values, env);
  if (!token) throw new UsageError('no token: pass --token, or set AUTH to "Authorization: Bearer <token>"');
  return {
    folder: positionals[0],
    algorithm: values.algorithm,
    dockerfile: values.dockerfile ?? 'Dockerfile',
    api,
    token,
  };
}

/** Pushes and follows; resolves with the exit code. Lines go to `out`, the reason of a failure to `err`. */
export async function pushAlgorithm(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: { out: (line: string) => void; err: (line: string) => void; pollMs?: number },
): Promise<number> {
  let options: PushOptions;
  try {
    options = pushOptions(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) io.err(err.message);
    io.err(USAGE);
    return 2;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'push-algorithm-'));
  try {
    const archive = path.join(work, 'context.tar.gz');
    try {
      const packed = await packBuildContext(options.folder, archive, { dockerfile: options.dockerfile });
      io.out(`packed ${packed.entries.length} entries of ${options.folder} (${packed.bytes} bytes)`);
    } catch (err) {
      if (!(err instanceof ContextError)) throw err;
      io.err(err.message);
      return 2;
    }
    const api: ApiCaller = async (method, route, body) => {
      const response = await fetch(`${options.api}${route}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      const answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (!response.ok) {
        const error = answer.error as { code?: string; message?: string } | undefined;
        throw new Error(`${method} ${route} answered ${response.status}: ${error?.message ?? text}`);
      }
      return answer;
    };
    const algorithmRoute = `/algorithms/${encodeURIComponent(options.algorithm)}/builds`;
    const created = (await api('POST', algorithmRoute, {
      filename: 'context.tar.gz',
      size: fs.statSync(archive).size,
      dockerfile: options.dockerfile,
    })) as { build: { id: string }; upload: { id: string; partSize: number; partCount: number } };
    io.out(`build ${created.build.id}: uploading`);
    await uploadFile(api, created.upload, archive);
    return await followBuild(api, `${algorithmRoute}/${created.build.id}`, io);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  pushAlgorithm(process.argv.slice(2), process.env, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  }).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
