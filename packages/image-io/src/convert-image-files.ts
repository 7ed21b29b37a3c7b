import { ConversionLimits, DEFAULT_CONVERSION_LIMITS } from './conversion-limits';
import { readMetaImage } from './metaimage-reader';
import { writeMetaImage } from './metaimage-writer';
import { readNifti } from './nifti-reader';
import { readNrrd } from './nrrd-reader';
import { loadSharp, readPicture } from './picture-reader';
import { convertSlide } from './slide-converter';
import { Rejection } from './rejection';
import { assembleSeries } from './dicom-series';
import { DicomSlice, isDicom, readDicomSlices } from './dicom-slice';
import { ARCHIVE_NAME, EntryWriter, ExtractionBudget } from './archive-entries';
import { extractTar } from './tar-archive';
import { extractZip } from './zip-archive';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDicomFileHeader } from './dicom-file-header';
import { convertWholeSlide, isWholeSlide, readWholeSlideFile, WholeSlideFile } from './dicom-whole-slide';
import { ReusedBuffer } from './disk-file';
import type { ByteRange } from './dicom-pixel-data';
import { Volume } from './volume';

/** One file of an upload set, by its own name; loaded only when a reader needs it. */
export interface InputFile {
  readonly name: string;
  /**
   * The file's bytes. Given `reuse`, a file on disk is read into its buffer, valid until its next
   * use, for readers that drop the bytes before they load the next file.
   */
  readonly load: (reuse?: ReusedBuffer) => Buffer;
  /**
   * Reads one range of the file without the rest, where it is on disk: at most `range.length`
   * bytes, fewer where the file ends first.
   */
  readonly readRange?: (range: ByteRange, reuse?: ReusedBuffer) => Buffer;
  /** Bytes of the file, where known without reading it. */
  readonly size?: number;
}

export interface ConvertedImage {
  /** Output file name, e.g. `chest.mha`. */
  readonly name: string;
  /** The input files it was made from. */
  readonly sources: readonly string[];
  readonly content: Buffer;
  /** Geometry and pixel type, for the image record. */
  readonly metadata: Record<string, unknown>;
}

export interface ConversionResult {
  readonly images: readonly ConvertedImage[];
  /** Every file that became no image, each with a reason a person can act on. */
  readonly rejected: readonly { readonly filename: string; readonly reason: string }[];
}

/** Formats recognised but not converted by this version, so the reason says so plainly. */
const NOT_YET: readonly [RegExp, string][] = [
  [/\.(ndpi|mrxs|scn|bif|vms|vmu)$/i, 'whole-slide formats other than TIFF, Aperio SVS and DICOM'],
  [/\.isyntax$/i, 'Philips iSyntax'],
  [/\.(fda|fds|e2e)$/i, 'OCT (Topcon .fda/.fds, Heidelberg .e2e)'],
];

/**
 * Turns the files of one upload set into `.mha` images: DICOM series (uncompressed, deflated,
 * and the compressed transfer syntaxes of dicom-frame-decoder.ts), MetaImage (`.mha`, `.mhd` with its data
 * file), NIfTI (`.nii`, `.nii.gz`), NRRD (`.nrrd`), 2D PNG and JPEG, and zip archives of them;
 * TIFF and Aperio SVS slides, and DICOM whole-slide images, into tiled pyramidal BigTIFF (`.tif`). Each file either becomes part of an image or is rejected
 * with its reason; one bad file never stops the others.
 */
export async function convertImageFiles(
  input: readonly InputFile[],
  limits: ConversionLimits = DEFAULT_CONVERSION_LIMITS,
  options: ConversionOptions = {},
): Promise<ConversionResult> {
  // Archives are extracted to disk, into a folder of this conversion's own, removed after it.
  let scratch: string | undefined;
  const scratchFolder = () =>
    (scratch ??= fs.mkdtempSync(path.join(options.scratchDir ?? os.tmpdir(), 'archives-')));
  try {
    return await convertFiles(await expandArchives(input, limits, scratchFolder), limits);
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface ConversionOptions {
  /** Where archives are extracted, in a folder of their own. @default os.tmpdir() */
  readonly scratchDir?: string;
}

async function convertFiles(
  { files, rejected }: { files: InputFile[]; rejected: { filename: string; reason: string }[] },
  limits: ConversionLimits,
): Promise<ConversionResult> {
  const images: ConvertedImage[] = [];
  const consumed = new Set<string>();
  const usedNames = new Set<string>();

  const convert = async (file: InputFile, read: () => Volume | Promise<Volume>, extra: string[] = []) => {
    try {
      const volume = await read();
      const name = uniqueName(outputBaseName(file.name), usedNames);
      images.push({
        name,
        sources: [file.name, ...extra],
        content: await writeMetaImage(volume),
        metadata: describe(volume),
      });
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      rejected.push({ filename: file.name, reason: err.message });
    }
  };

  for (const file of files) {
    if (/\.mhd$/i.test(file.name)) {
      const dataFile = referencedDataFile(file);
      if (dataFile) consumed.add(`${folderOf(file.name)}${dataFile}`);
    }
  }
  const dicomSlices: DicomSlice[] = [];
  // DICOM headers are read file by file, nothing of one kept when the next is read.
  const headerBytes = new ReusedBuffer();
  const wholeSlides: WholeSlideFile[] = [];
  const readDicom = (file: InputFile) => {
    try {
      const header = readDicomFileHeader(file, limits, headerBytes);
      if (isWholeSlide(header)) wholeSlides.push(readWholeSlideFile(file, header, limits));
      else dicomSlices.push(...readDicomSlices(file, limits, headerBytes, header));
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      rejected.push({ filename: file.name, reason: err.message });
    }
  };
  for (const file of files) {
    const name = file.name;
    if (/\.(dcm|dicom)$/i.test(name)) {
      readDicom(file);
    } else if (/\.mha$/i.test(name) || /\.mhd$/i.test(name)) {
      const siblings = siblingsOf(file, files);
      const dataFile = /\.mhd$/i.test(name) ? referencedDataFile(file) : undefined;
      await convert(
        file,
        () => readMetaImage(file.load(), siblings, limits),
        dataFile && siblings.has(dataFile) ? [`${folderOf(name)}${dataFile}`] : [],
      );
    } else if (/\.nii(\.gz)?$/i.test(name)) {
      await convert(file, () => readNifti(file.load(), limits));
    } else if (/\.nrrd$/i.test(name)) {
      await convert(file, () => readNrrd(file.load(), limits));
    } else if (/\.(png|jpe?g)$/i.test(name)) {
      await convert(file, () => readPicture(file.load(), limits));
    } else if (/\.(tiff?|svs)$/i.test(name)) {
      try {
        const slide = await convertSlide(file.load(), limits, loadSharp());
        const output = uniqueName(outputBaseName(name), usedNames, 'tif');
        images.push({ name: output, sources: [name], content: slide.content, metadata: slide.metadata });
      } catch (err) {
        if (!(err instanceof Rejection)) throw err;
        rejected.push({ filename: name, reason: err.message });
      }
    } else if (consumed.has(name)) {
      continue;
    } else if (/\.(raw|zraw)$/i.test(name)) {
      rejected.push({
        filename: name,
        reason: 'a MetaImage data file that no .mhd header of this upload names',
      });
    } else if (isDicom(startOf(file, headerBytes))) {
      // DICOM by its marker, whatever the name: scanners name files by number or by UID.
      readDicom(file);
    } else {
      const known = NOT_YET.find(([pattern]) => pattern.test(name));
      rejected.push({
        filename: name,
        reason: known
          ? `${known[1]} files are not converted by this version of the converter`
          : 'not an image format the converter reads (DICOM, MetaImage .mha/.mhd, NIfTI .nii/.nii.gz, NRRD .nrrd, PNG, JPEG, TIFF, Aperio SVS)',
      });
    }
  }
  // Each DICOM whole-slide image, the files of one series, becomes one slide like a TIFF's.
  const slideSeries = new Map<string, WholeSlideFile[]>();
  for (const f of wholeSlides) slideSeries.set(f.seriesUid, [...(slideSeries.get(f.seriesUid) ?? []), f]);
  for (const series of slideSeries.values()) {
    const names = series.map((f) => f.input.name);
    try {
      const slide = await convertWholeSlide(series, limits, loadSharp());
      const output = uniqueName('slide', usedNames, 'tif');
      images.push({ name: output, sources: names, content: slide.content, metadata: slide.metadata });
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      rejected.push(...names.map((filename) => ({ filename, reason: err.message })));
    }
  }
  for await (const outcome of assembleSeries(dicomSlices, limits)) {
    if ('reason' in outcome) {
      rejected.push(...outcome.rejected.map((filename) => ({ filename, reason: outcome.reason })));
      continue;
    }
    const { sources, volume } = outcome;
    const name = uniqueName(volume.metadata.Modality ?? 'series', usedNames);
    images.push({ name, sources, content: await writeMetaImage(volume), metadata: describe(volume) });
  }
  return { images, rejected };
}

/** The first bytes of a file, enough to tell DICOM by its marker: read alone where the file is on disk. */
function startOf(file: InputFile, reuse: ReusedBuffer): Buffer {
  return file.readRange ? file.readRange({ offset: 0, length: 256 }, reuse) : file.load(reuse);
}

/**
 * Replaces each archive (zip, tar, gzipped tar) by its files, extracted to disk and named
 * `<archive>/<path inside>`, within one budget for the whole set; a refused archive is one
 * rejection, and none of its files is kept.
 */
async function expandArchives(
  files: readonly InputFile[],
  limits: ConversionLimits,
  scratchFolder: () => string,
): Promise<{ files: InputFile[]; rejected: { filename: string; reason: string }[] }> {
  const expanded: InputFile[] = [];
  const rejected: { filename: string; reason: string }[] = [];
  const budget = new ExtractionBudget(limits);
  for (const [index, file] of files.entries()) {
    if (!ARCHIVE_NAME.test(file.name)) {
      expanded.push(file);
      continue;
    }
    const folder = path.join(scratchFolder(), String(index));
    fs.mkdirSync(folder);
    const zip = /\.zip$/i.test(file.name);
    const writer = new EntryWriter(folder, file.name, zip ? 'zip' : 'tar', budget);
    try {
      expanded.push(...(await (zip ? extractZip : extractTar)(file, writer, budget)));
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      rejected.push({ filename: file.name, reason: err.message });
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }
  return { files: expanded, rejected };
}

/** `a.zip/series/` for `a.zip/series/ct.mhd`; empty for a file at the top. */
function folderOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/') + 1);
}

/** The files beside a header, by their plain names: a header may name its data file only among them. */
function siblingsOf(file: InputFile, files: readonly InputFile[]): Map<string, () => Buffer> {
  const folder = folderOf(file.name);
  return new Map(
    files
      .filter((f) => folderOf(f.name) === folder)
      .map((f) => [f.name.slice(folder.length), f.load] as const),
  );
}

function referencedDataFile(file: InputFile): string | undefined {
  const head = file
    .load()
    .subarray(0, 64 * 1024)
    .toString('latin1');
  return head.match(/^\s*ElementDataFile\s*=\s*(.+?)\s*$/m)?.[1];
}

function outputBaseName(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.replace(/\.(nii\.gz|nii|mha|mhd|nrrd|png|jpe?g|tiff?|svs)$/i, '') || 'image';
}

function uniqueName(base: string, used: Set<string>, extension = 'mha'): string {
  let name = `${base}.${extension}`;
  for (let n = 2; used.has(name); n++) name = `${base}-${n}.${extension}`;
  used.add(name);
  return name;
}

function describe(volume: Volume): Record<string, unknown> {
  return {
    size: volume.size,
    spacing: volume.spacing,
    origin: volume.origin,
    direction: volume.axes,
    componentType: volume.componentType,
    components: volume.components,
    ...volume.metadata,
  };
}
