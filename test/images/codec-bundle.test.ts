import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CODEC_WASM_FILES, decodeFrame, FrameFormat } from '@imaging-platform/image-io';
import { copyBesideBundle } from '../../lib/core/platform-function';
import {
  encodeFrame,
  encodeJpegBaseline,
  loadFrameEncoders,
  RawFrame,
  TRANSFER_SYNTAX as TS,
} from '../../packages/image-io/test/helpers/dicom-frame-encoders';
import { COLUMNS, ROWS, slicePixels } from '../../packages/image-io/test/helpers/slice-pixels';

// How the converter function ships the DICOM codecs: its bundle, and the .wasm files that
// PlatformFunction copies beside it (lib/images/image-converter.ts).

const projectDir = path.join(__dirname, '..', '..');

beforeAll(() => loadFrameEncoders());

describe('the codecs as bundled for Lambda', () => {
  test("a bundle built as the converter's, with the files its bundling copies, decodes every syntax on its own", async () => {
    // Outside the project, so nothing can be found in a node_modules folder up the tree.
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-bundle-'));
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({
      // The options NodejsFunction passes to esbuild for PlatformFunction, libvips left out as
      // in the converter; the decoder reached through the package, as the handler reaches it.
      stdin: {
        contents: "export { decodeFrame } from '@imaging-platform/image-io';",
        resolveDir: projectDir,
        loader: 'ts',
      },
      outfile: path.join(outDir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      external: ['sharp'],
      logLevel: 'error',
    });
    for (const command of copyBesideBundle(
      CODEC_WASM_FILES.map((file) => require.resolve(file)),
      projectDir,
      outDir,
    )) {
      expect(spawnSync('bash', ['-c', command], { cwd: projectDir }).status).toBe(0);
    }
    const bundle = fs.readFileSync(path.join(outDir, 'index.js'), 'utf8');
    expect(bundle).not.toMatch(/require\(["']@cornerstonejs|require\(["']jpeg-lossless/);
    for (const file of CODEC_WASM_FILES) {
      const name = path.basename(require.resolve(file));
      expect(bundle).toContain(name);
      expect(fs.existsSync(path.join(outDir, name))).toBe(true);
    }

    const raw = (samples: 1 | 3, bits: 8 | 16): RawFrame => ({
      pixels: slicePixels({ transferSyntax: TS.rle, bits, samples, signed: bits === 16 }, 2),
      rows: ROWS,
      columns: COLUMNS,
      samples,
      bitsAllocated: bits,
      signed: bits === 16,
    });
    const frames: [string, RawFrame, Buffer][] = [
      [TS.rle, raw(3, 8), encodeFrame(TS.rle, raw(3, 8))],
      [TS.jpegBaseline, raw(3, 8), await encodeJpegBaseline(raw(3, 8))],
      [TS.jpegLosslessFirstOrder, raw(1, 16), encodeFrame(TS.jpegLosslessFirstOrder, raw(1, 16))],
      [TS.jpegLs, raw(1, 16), encodeFrame(TS.jpegLs, raw(1, 16))],
      [TS.jpeg2000Lossless, raw(1, 16), encodeFrame(TS.jpeg2000Lossless, raw(1, 16))],
      [TS.jpeg2000, raw(3, 8), encodeFrame(TS.jpeg2000, raw(3, 8))],
    ];
    const input = frames.map(([transferSyntax, frame, coded]) => ({
      transferSyntax,
      frame: coded.toString('base64'),
      format: formatOfRaw(frame),
    }));
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `const { decodeFrame } = require('./index.js');
         const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
         Promise.all(input.map((f) => decodeFrame(f.transferSyntax, Buffer.from(f.frame, 'base64'), f.format)))
           .then((out) => process.stdout.write(JSON.stringify(out.map((b) => b.toString('base64')))));`,
      ],
      { cwd: outDir, input: JSON.stringify(input), encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(run.stderr).toBe('');
    const decoded = JSON.parse(run.stdout) as string[];
    expect(decoded).toHaveLength(frames.length);
    for (const [i, [transferSyntax, frame, coded]] of frames.entries()) {
      const expected = await decodeFrame(transferSyntax, coded, formatOfRaw(frame));
      expect(decoded[i]).toBe(expected.toString('base64'));
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});

function formatOfRaw(raw: RawFrame): FrameFormat {
  return { rows: raw.rows, columns: raw.columns, samples: raw.samples, bitsAllocated: raw.bitsAllocated };
}
