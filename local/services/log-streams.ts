/** How much of the job log group local mode keeps, in bytes of the lines' text. */
export interface LogLimits {
  /** Most kept of one stream: past it, the stream's oldest lines go first. */
  readonly streamBytes: number;
  /** Most kept of all streams together: past it, the oldest lines of any stream go first. */
  readonly totalBytes: number;
}

/**
 * Enough for the 500 lines `GET /v1/jobs/{id}/logs` returns, each at the runner's longest, while a
 * day of local jobs stays within a few hundred MiB. CloudWatch keeps lines by age instead: locally
 * the start of a long log is gone where AWS would still have it.
 */
export const LOCAL_LOG_LIMITS: LogLimits = { streamBytes: 16 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 };

/** What a line costs: its text, at two bytes a character at most, and the object that holds it. */
const costOf = (line: { readonly message: string }) => 2 * line.message.length + 64;

interface Stream<T> {
  lines: T[];
  /** Index of the oldest line kept: lines before it were dropped and wait to be cut away. */
  head: number;
  bytes: number;
  /** Lines dropped for the stream's own bound whose entries are still in the oldest-first order. */
  dropped: number;
}

/**
 * The lines of local log streams, oldest first, within `limits`: as a retention would, what goes
 * past a bound is dropped from the oldest end, so the newest lines always read.
 */
export class LocalLogStreams<T extends { readonly message: string }> {
  private readonly streams = new Map<string, Stream<T>>();
  /** The stream of every line appended and not yet dropped for the total bound, oldest first. */
  private order: Stream<T>[] = [];
  private orderHead = 0;
  private droppedInOrder = 0;
  private bytes = 0;

  constructor(private readonly limits: LogLimits = LOCAL_LOG_LIMITS) {}

  /** Opens a stream (empty until it is written), as the container's start does on AWS. */
  create(name: string): void {
    if (!this.streams.has(name)) this.streams.set(name, { lines: [], head: 0, bytes: 0, dropped: 0 });
  }

  append(name: string, line: T): void {
    this.create(name);
    const stream = this.streams.get(name)!;
    const cost = costOf(line);
    stream.lines.push(line);
    stream.bytes += cost;
    this.bytes += cost;
    this.order.push(stream);
    while (stream.bytes > this.limits.streamBytes) {
      this.dropOldest(stream);
      stream.dropped++;
      this.droppedInOrder++;
    }
    while (this.bytes > this.limits.totalBytes) {
      const oldest = this.order[this.orderHead++];
      // An entry of a line its stream already dropped: the stream's oldest entries are those.
      if (oldest.dropped > 0) {
        oldest.dropped--;
        this.droppedInOrder--;
      } else {
        this.dropOldest(oldest);
      }
    }
    this.compactOrder();
  }

  /** The kept lines of a stream, oldest first, or undefined when there is no such stream. */
  get(name: string): readonly T[] | undefined {
    const stream = this.streams.get(name);
    return stream && stream.lines.slice(stream.head);
  }

  /** Bytes kept of all streams together. */
  get keptBytes(): number {
    return this.bytes;
  }

  private dropOldest(stream: Stream<T>): void {
    const line = stream.lines[stream.head];
    stream.lines[stream.head++] = undefined as unknown as T;
    const cost = costOf(line);
    stream.bytes -= cost;
    this.bytes -= cost;
    if (stream.head > 1024 && stream.head * 2 > stream.lines.length) {
      stream.lines = stream.lines.slice(stream.head);
      stream.head = 0;
    }
  }

  /** Cuts away entries of lines no longer kept once they are half of the order, so it stays bounded. */
  private compactOrder(): void {
    const stale = this.orderHead + this.droppedInOrder;
    if (stale <= 1024 || stale * 2 <= this.order.length) return;
    const toSkip = new Map<Stream<T>, number>();
    for (const stream of this.streams.values()) if (stream.dropped > 0) toSkip.set(stream, stream.dropped);
    const kept: Stream<T>[] = [];
    for (let i = this.orderHead; i < this.order.length; i++) {
      const stream = this.order[i];
      const skip = toSkip.get(stream) ?? 0;
      if (skip > 0) toSkip.set(stream, skip - 1);
      else kept.push(stream);
    }
    for (const stream of this.streams.values()) stream.dropped = 0;
    this.order = kept;
    this.orderHead = 0;
    this.droppedInOrder = 0;
  }
}
