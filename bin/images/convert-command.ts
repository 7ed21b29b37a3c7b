// `npm run convert -- <files or folders...> --out <dir>`: converts locally as the platform does,
// so researchers can check their data before uploading.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConvertedImage, convertImageFiles, diskFile, InputFile } from '@imaging-platform/image-io';

const USAGE = 'usage: npm run convert -- <files or folders...> --out <dir>';

/** Where the command prints: one line per output or rejected file, and usage errors. */
export interface CommandOutput {
  readonly line: (text: string) => void;
  readonly error: (text: string) => void;
}

class UsageError extends Error {}

/**
 * Runs the command; its exit code: 0 when every file became part of an image, 1 when any was
 * rejected, 2 for a usage error. Every file named ends on a line, as an output or with a reason.
 */
export async function convertCommand(args: readonly string[], out: CommandOutput): Promise<number> {
  let outDir: string;
  let files: { name: string; file: string }[];
  try {
    ({ outDir, files } = parseArguments(args));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  const set: InputFile[] = files.map(({ name, file }) => diskFile(name, file));
  let result;
  try {
    result = await convertImageFiles(set);
  } catch (err) {
    // A fault of the converter, not of a file: every file still gets its line.
    for (const { name } of files)
      out.line(`rejected ${name}: the converter failed: ${(err as Error).message}`);
    return 2;
  }
  let rejected = result.rejected.length;
  fs.mkdirSync(outDir, { recursive: true });
  for (const image of result.images) {
    const target = path.join(outDir, image.name);
    try {
      fs.writeFileSync(target, image.content);
    } catch (err) {
      for (const source of image.sources)
        out.line(
          `rejected ${source}: its image could not be written to ${target}: ${(err as Error).message}`,
        );
      rejected += image.sources.length;
      continue;
    }
    out.line(`converted ${sourcesOf(image.sources)} -> ${target} (${describe(image)})`);
  }
  for (const { filename, reason } of result.rejected) out.line(`rejected ${filename}: ${reason}`);
  return rejected > 0 ? 1 : 0;
}

function parseArguments(args: readonly string[]): {
  outDir: string;
  files: { name: string; file: string }[];
} {
  const outIndex = args.indexOf('--out');
  if (outIndex === -1 || !args[outIndex + 1]) throw new UsageError('--out <dir> is required');
  const outDir = args[outIndex + 1];
  const inputs = args.filter((_, i) => i !== outIndex && i !== outIndex + 1);
  if (inputs.length === 0) throw new UsageError('name at least one file or folder to convert');
  const files = collect(inputs);
  const names = new Set<string>();
  for (const { name } of files) {
    if (names.has(name))
      throw new UsageError(`two files are named ${name}; an upload set needs distinct names`);
    names.add(name);
  }
  return { outDir, files };
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
    if (!fs.existsSync(p)) throw new UsageError(`${p} does not exist`);
    visit(p);
  }
  return found;
}

/** What an output holds: a volume's voxels and spacing, or a slide's pixels, pixel size and coding. */
function describe(image: ConvertedImage): string {
  const m = image.metadata;
  const number = (v: unknown) => Number((v as number).toPrecision(6));
  if (Array.isArray(m.size) && Array.isArray(m.spacing))
    return `${m.size.join(' x ')} voxels, spacing ${m.spacing.map(number).join(' x ')}`;
  const coding = m.lossy ? `${m.compression} quality ${m.jpegQuality}, lossy` : `${m.compression}, lossless`;
  return `${m.width} x ${m.height} pixels, ${m.channels} x ${m.sampleType}, ${number(m.micronsPerPixel)} um per pixel, ${m.levels} levels, ${coding}`;
}

/** The files an image was made from: named when a few, else counted with the first and last. */
function sourcesOf(sources: readonly string[]): string {
  if (sources.length <= 3) return sources.join(' + ');
  const sorted = [...sources].sort();
  return `${sources.length} files (${sorted[0]} ... ${sorted.at(-1)})`;
}
