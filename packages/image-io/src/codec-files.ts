/**
 * The WebAssembly files of the codecs, as package paths. Each Emscripten module loads its .wasm
 * from its own folder: beside its package's script when run from source, beside index.js in a
 * Lambda bundle, which is why the converter's bundling copies exactly these files.
 */
export const CODEC_WASM_FILES = [
  '@cornerstonejs/codec-charls/decodewasm',
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
  '@cornerstonejs/codec-openjpeg/decodewasm',
] as const;
