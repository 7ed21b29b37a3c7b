#!/usr/bin/env node
// `node bin/run-checks.cjs`: what `npm test` checks before its tests, the commands of the
// `typecheck` and `lint` scripts, run side by side, as many at once as there are cores (each of
// them uses one), where one after the other they take twice as long. Each one's output is printed
// whole when it ends, so that a failure reads as it does alone; exits 1 if any failed.
'use strict';
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { scripts } = require(path.join(root, 'package.json'));
// In the order written: the type check of the whole tree, the longest, starts first.
const commands = ['typecheck', 'lint'].flatMap((script) => scripts[script].split(' && '));
const env = {
  ...process.env,
  PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`,
};

function run(command) {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('close', (code) => {
      const text = Buffer.concat(output).toString('utf8');
      process.stdout.write(
        `${code === 0 ? 'ok' : 'FAILED'}: ${command}\n${text}${text.endsWith('\n') || !text ? '' : '\n'}`,
      );
      resolve(code === 0);
    });
  });
}

async function main() {
  const queue = [...commands];
  const results = [];
  const lane = async () => {
    for (let command = queue.shift(); command; command = queue.shift()) results.push(await run(command));
  };
  await Promise.all(Array.from({ length: Math.min(os.availableParallelism(), queue.length) }, lane));
  process.exitCode = results.every(Boolean) ? 0 : 1;
}

main();
