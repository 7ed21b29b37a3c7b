// Started by the runner, as root, in the algorithm's container on AWS Batch: becomes the image's
// user, with the network-denied group and no other, and runs the image's own program with the
// image's own environment (HOME and PATH as Docker defaults them) and nothing of the platform's. Relays SIGTERM and the exit status, and
// ends every process left behind by the algorithm's user. When it cannot become the image's user,
// it says why on its own descriptor, so the job's reason is the runner's and not the algorithm's.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import {
  algorithmEnvironment,
  AlgorithmProgram,
  algorithmProgram,
  LAUNCH_FAILURE_FD,
  NETWORK_DENIED_GID,
  resolveUser,
} from './algorithm-identity';

function refuse(reason: string): never {
  try {
    fs.writeSync(LAUNCH_FAILURE_FD, reason);
  } catch {
    console.error(reason);
  }
  process.exit(126);
}

let program: AlgorithmProgram;
let home: string;
try {
  program = algorithmProgram(process.env);
  const { uid, gid, home: userHome } = resolveUser(program.user);
  home = userHome;
  process.setgroups!([gid, NETWORK_DENIED_GID]);
  process.setgid!(gid);
  process.setuid!(uid);
} catch (err) {
  refuse((err as Error).message);
}
// The runner always starts the launcher with the descriptor; closed here, the algorithm never
// inherits it and cannot speak for the runner.
fs.closeSync(LAUNCH_FAILURE_FD);

const child = spawn(program.command[0], program.command.slice(1), {
  cwd: program.workingDir,
  env: algorithmEnvironment(program, home),
  stdio: 'inherit',
});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (err) => {
  console.error(`the algorithm could not be started: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  // Whatever the algorithm left running (as its user) ends with it, before its outputs are read.
  try {
    process.kill(-1, 'SIGKILL');
  } catch {
    // Nothing else was running.
  }
  process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 0));
});
