// Converts one file, or every file of a folder as one upload set, in this fresh process and
// reports wall time, CPU time (all threads) and peak memory as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { convertImageFiles, diskFile } from '@imaging-platform/image-io';

async function main(): Promise<void> {
  const target = process.argv[2];
  const paths = fs.statSync(target).isDirectory()
    ? fs.readdirSync(target).map((name) => path.join(target, name))
    : [target];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await convertImageFiles(paths.map((p) => diskFile(path.basename(p), p)));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (result.images.length !== 1) throw new Error(`conversion failed: ${JSON.stringify(result.rejected)}`);
  const outputBytes = result.images[0].content.length;
  process.stdout.write(
    `${JSON.stringify({ wallMs, cpuMs, maxRssKb: process.resourceUsage().maxRSS, outputBytes })}\n`,
  );
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
