#!/usr/bin/env node
// `npm run convert -- <files or folders...> --out <dir>`: converts locally as the platform does,
// so researchers can check their data before uploading. Exits 1 if any file was rejected.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { convertImageFiles, diskFile, InputFile } from '@imaging-platform/image-io';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run convert -- <files or folders...> --out <dir>`);
  process.exit(2);
}

/** Regular files given or found under the folders given; symbolic links are not followed. */
function collect(paths: string[]): { name: string; file: string }[] {
  const found: { name: string; file: string }[] = [];
  const visit = (file: string) => {
    const stat = fs.lstatSync(file);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(file).sort()) visit(path.join(file, entry));
    else if (stat.isFile()) found.push({ name: path.basename(file), file });
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) usage(`${p} does not exist`);
    visit(p);
  }
  return found;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  if (outIndex === -1 || !args[outIndex + 1]) usage('--out <dir> is required');
  const outDir = args[outIndex + 1];
  const inputs = args.filter((_, i) => i !== outIndex && i !== outIndex + 1);
  if (inputs.length === 0) usage('name at least one file or folder to convert');

  const files = collect(inputs);
  const names = new Set<string>();
  for (const { name } of files) {
    if (names.has(name)) usage(`two files are named ${name}; an upload set needs distinct names`);
    names.add(name);
  }
  const set: InputFile[] = files.map(({ name, file }) => diskFile(name, file));
  const result = await convertImageFiles(set);

  fs.mkdirSync(outDir, { recursive: true });
  for (const image of result.images) {
    const target = path.join(outDir, image.name);
    fs.writeFileSync(target, image.content);
    const { size, spacing } = image.metadata as { size: number[]; spacing: number[] };
    console.log(
      `converted ${sourcesOf(image.sources)} -> ${target} (${size.join(' x ')} voxels, spacing ${spacing.map((v) => Number(v.toPrecision(6))).join(' x ')})`,
    );
  }
  for (const { filename, reason } of result.rejected) console.log(`rejected ${filename}: ${reason}`);
  process.exit(result.rejected.length > 0 ? 1 : 0);
}

/** The files an image was made from: named when a few, else counted with the first and last. */
function sourcesOf(sources: readonly string[]): string {
  if (sources.length <= 3) return sources.join(' + ');
  const sorted = [...sources].sort();
  return `${sources.length} files (${sorted[0]} ... ${sorted.at(-1)})`;
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(2);
});
