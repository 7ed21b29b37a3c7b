import * as fs from 'node:fs';
import { RUNNER_LAYER } from '../../../lambda/contracts/job-runner';
import { variableName } from '../../../lambda/contracts/settings';

/**
 * The supplementary group every algorithm process carries on AWS Batch. The instances' firewall
 * drops every packet of this group (`iptables -m owner --gid-owner 61000 --suppl-groups`), and a
 * process without CAP_SETGID cannot leave it: the algorithm has no network, while the runner,
 * outside the group, stores outputs.
 */
export const NETWORK_DENIED_GID = 61000;

/**
 * The descriptor on which the launcher tells the runner why it could not start the algorithm as
 * the image's user, apart from the algorithm's own stdout and stderr.
 */
export const LAUNCH_FAILURE_FD = 3;

/** The image's own program, user and environment, as recorded when the runner was layered onto it. */
export interface AlgorithmProgram {
  readonly command: readonly string[];
  readonly user: string;
  readonly workingDir: string;
  readonly environment: Readonly<Record<string, string>>;
}

/** Reads what the runner layer recorded about the image it was added to. */
export function algorithmProgram(env: NodeJS.ProcessEnv): AlgorithmProgram {
  const layer = RUNNER_LAYER.parse(env);
  const list = (setting: 'algorithmEntrypoint' | 'algorithmCmd' | 'algorithmEnv') => {
    const value = layer[setting] ? (JSON.parse(layer[setting]) as unknown) : [];
    if (!Array.isArray(value)) throw new Error(`${variableName(setting)} must be a JSON list`);
    return value.map(String);
  };
  const command = [...list('algorithmEntrypoint'), ...list('algorithmCmd')];
  if (command.length === 0) throw new Error('the algorithm image has neither ENTRYPOINT nor CMD');
  return {
    command,
    user: layer.algorithmUser,
    workingDir: layer.algorithmWorkdir || '/',
    environment: Object.fromEntries(
      list('algorithmEnv').map((entry) => [
        entry.slice(0, entry.indexOf('=')),
        entry.slice(entry.indexOf('=') + 1),
      ]),
    ),
  };
}

/**
 * The numeric user and group of an image's USER (`name`, `uid`, `name:group`, `uid:gid`),
 * resolved in the image's own /etc/passwd and /etc/group (under `root`); root is refused, by name
 * or by number, and so is a name the image does not define. Each refusal names the USER.
 */
export function resolveUser(user: string, root = '/'): { uid: number; gid: number; home: string } {
  if (user.trim() === '') throw new ImageUserError('runs as root (USER is not set)');
  const [userPart, groupPart] = user.split(':');
  const table = (file: string) =>
    fs.existsSync(`${root}etc/${file}`)
      ? fs
          .readFileSync(`${root}etc/${file}`, 'utf8')
          .split('\n')
          .map((line) => line.split(':'))
      : [];
  const passwd = table('passwd');
  let uid: number;
  let gid: number | undefined;
  // As Docker sets HOME: the user's entry's, else /.
  let home = '/';
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((fields) => fields[2] === userPart);
    gid = entry ? Number(entry[3]) : uid;
    home = entry?.[5] || home;
  } else {
    const entry = passwd.find((fields) => fields[0] === userPart);
    if (!entry) throw new ImageUserError(`has USER "${user}", whose user is not in its /etc/passwd`);
    [uid, gid] = [Number(entry[2]), Number(entry[3])];
    home = entry[5] || home;
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = table('group').find((fields) => fields[0] === groupPart);
      if (!entry) throw new ImageUserError(`has USER "${user}", whose group is not in its /etc/group`);
      gid = Number(entry[2]);
    }
  }
  if (uid === 0) throw new ImageUserError(`runs as root (USER "${user}" is uid 0)`);
  return { uid, gid, home };
}

/** The PATH Docker gives a container whose image sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The algorithm's environment as Docker would give its container: the image's own ENV, with
 * HOME (the user's home) and PATH where the image sets none, and nothing of the platform's.
 */
export function algorithmEnvironment(program: AlgorithmProgram, home: string): Record<string, string> {
  return { PATH: DEFAULT_PATH, HOME: home, ...program.environment };
}

/** An image whose USER the platform will not run as; `detail` says why, of the image. */
export class ImageUserError extends Error {
  constructor(readonly detail: string) {
    super(`the image ${detail}; algorithms run as a non-root user that the image defines`);
  }
}
