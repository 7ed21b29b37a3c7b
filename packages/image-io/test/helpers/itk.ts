import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** An image as the ITK helpers print it. */
export interface ItkImage {
  size: number[];
  spacing: number[];
  origin: number[];
  direction: number[];
  componentType: string;
  components?: number;
  /** Voxel bytes, base64 (itk-image.mjs). */
  data?: string;
  /** Voxel values (itk-dicom.mjs, since GDCM picks its own pixel type). */
  values?: number[];
}

/**
 * Runs one of the ITK helpers (itk-wasm, ES modules) in its own process with `command` on stdin:
 * the independent reader and writer of the conversion tests.
 */
export function runItk(helper: 'itk-image.mjs' | 'itk-dicom.mjs', command: object): Promise<ItkImage> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, helper)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
    child.stdin.end(JSON.stringify(command));
  });
}
