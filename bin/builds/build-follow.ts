import type { ApiCaller } from './api-upload';

/** What `GET /v1/algorithms/{id}/builds/{buildId}` says of a build, as far as following it needs. */
interface BuildView {
  readonly status: string;
  readonly statusDetail: string;
  readonly image?: string;
  readonly versionId?: string;
  readonly logTail?: readonly string[];
}

const ENDED = new Set(['Succeeded', 'Failed', 'Cancelled']);

/**
 * The lines of `tail` not printed yet: those after the longest end of `printed` that `tail`
 * starts with (the tail is the log's last lines, so it slides as the log grows).
 */
export function newLines(printed: readonly string[], tail: readonly string[]): string[] {
  for (let overlap = Math.min(printed.length, tail.length); overlap > 0; overlap--) {
    const end = printed.slice(printed.length - overlap);
    if (end.every((line, i) => line === tail[i])) return tail.slice(overlap);
  }
  return [...tail];
}

/**
 * Reads a build every `pollMs` until it ends, printing its status when it changes and its new
 * log lines; resolves 0 for Succeeded (with the image and the version), 1 otherwise (the reason
 * on `err`).
 */
export async function followBuild(
  api: ApiCaller,
  route: string,
  io: { out: (line: string) => void; err: (line: string) => void; pollMs?: number },
): Promise<number> {
  let printed: string[] = [];
  let status = '';
  for (;;) {
    const build = (await api('GET', route)) as unknown as BuildView;
    const lines = newLines(printed, build.logTail ?? []);
    for (const line of lines) io.out(line);
    printed = [...printed, ...lines].slice(-1000);
    if (build.status !== status) {
      status = build.status;
      io.out(`status: ${build.status}${build.statusDetail ? ` (${build.statusDetail})` : ''}`);
    }
    if (ENDED.has(build.status)) {
      if (build.status === 'Succeeded') {
        io.out(`image: ${build.image ?? '(none)'}`);
        io.out(`version: ${build.versionId ?? '(none)'}`);
        return 0;
      }
      io.err(`the build ${build.status === 'Failed' ? 'failed' : 'was cancelled'}: ${build.statusDetail}`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 1000));
  }
}
