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

/** What an Emscripten module factory accepts: where its messages go. */
export interface EmscriptenOptions {
  print(text: string): void;
  printErr(text: string): void;
}

/**
 * One Emscripten codec, instantiated on first use. The codecs are built without C++ exception
 * handling, so a frame they throw on skips their clean-up: that instance is dropped and the next
 * frame gets a fresh one. What the codec prints while decoding is kept for the refusal.
 */
export class WasmCodec<Module> {
  private instance: Promise<Module> | undefined;
  private printed: string[] = [];

  constructor(private readonly factory: () => (options: EmscriptenOptions) => Promise<Module>) {}

  /** Runs `use` on the module; `messages` are what the codec printed during this use. */
  async use<T>(use: (module: Module, messages: readonly string[]) => T): Promise<T> {
    // A fresh options object per instance: two modules sharing one would register their names twice.
    this.instance ??= this.factory()({
      print: (text) => this.printed.push(text),
      printErr: (text) => this.printed.push(text),
    });
    const module = await this.instance;
    this.printed = [];
    try {
      return use(module, this.printed);
    } catch (err) {
      this.instance = undefined;
      throw err;
    }
  }
}

/** A reason from whatever a codec threw: Emscripten turns C++ exceptions into bare numbers. */
export function codecFailure(err: unknown, messages: readonly string[]): string {
  const said = messages.map((m) => m.trim()).filter(Boolean);
  if (said.length > 0) return said.join('; ');
  return err instanceof Error ? err.message : 'the codec refused it';
}
