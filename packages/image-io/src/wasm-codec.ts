/** What an Emscripten module factory accepts: where its messages go. */
export interface EmscriptenOptions {
  print(text: string): void;
  printErr(text: string): void;
}

/** What a codec said while decoding one frame, and why it failed when it threw. */
export interface CodecReport {
  /** Lines the codec printed. */
  readonly messages: readonly string[];
  /** A reason from what the codec threw: its message where it has one, else its name. */
  failure(err: unknown): string;
}

interface EmscriptenModule {
  /** Present in builds that keep C++ exception messages: [type, message] or the message. */
  getExceptionMessage?(pointer: number): string | [string, string];
}

/**
 * One Emscripten codec, instantiated on first use. The codecs are built without C++ exception
 * handling, so a frame they throw on skips their clean-up: that instance is dropped and the next
 * frame gets a fresh one (a few milliseconds). What the codec prints while decoding is kept for
 * the refusal.
 */
export class WasmCodec<Module> {
  private instance: Promise<Module> | undefined;
  private printed: string[] = [];

  constructor(
    private readonly name: string,
    private readonly factory: () => (options: EmscriptenOptions) => Promise<Module>,
  ) {}

  /** Runs `use` on the module, with what the codec says during this use. */
  async use<T>(use: (module: Module, report: CodecReport) => T): Promise<T> {
    // A fresh options object per instance: two modules sharing one would register their names twice.
    this.instance ??= this.factory()({
      print: (text) => this.printed.push(text),
      printErr: (text) => this.printed.push(text),
    });
    let module: Module;
    try {
      module = await this.instance;
    } catch (err) {
      this.instance = undefined; // a failed load is not kept: the next frame tries again
      throw err;
    }
    const messages: string[] = [];
    this.printed = messages;
    const failure = (err: unknown) => {
      const { getExceptionMessage } = module as EmscriptenModule;
      if (typeof err === 'number' && getExceptionMessage) {
        const message = getExceptionMessage(err);
        return `${this.name}: ${Array.isArray(message) ? message[message.length - 1] : message}`;
      }
      const said = messages.map((m) => m.trim()).filter((m) => m && !m.startsWith('[INFO]'));
      if (said.length > 0) return `${this.name}: ${said.join('; ')}`;
      return err instanceof Error ? `${this.name}: ${err.message}` : `${this.name} could not decode it`;
    };
    try {
      return use(module, { messages, failure });
    } catch (err) {
      this.instance = undefined;
      throw err;
    }
  }
}
