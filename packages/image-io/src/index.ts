/**
 * What the platform uses of the image library; everything else in this folder is internal.
 * Code outside the package imports only from here, as `@imaging-platform/image-io`.
 */

// Converting an upload set: its files, read from disk when a reader needs them.
export {
  convertImageFiles,
  type ConversionOptions,
  type ConvertedImage,
  type InputFile,
} from './convert-image-files';
export { diskFile, readWholeFile } from './disk-file';
export { LIBVIPS_MISSING } from './picture-reader';

// Decoding one DICOM frame, and the WebAssembly files that its codecs load from beside a bundle.
export { decodeFrame, type FrameFormat } from './dicom-frame-decoder';
export { CODEC_WASM_FILES } from './codec-files';
