/**
 * The resume cursor: it advances only when SQS has accepted a frame and every frame received
 * before it. Frames are tracked by the relay's sequence number, which only grows.
 */
export class CursorTracker {
  private readonly order: number[] = [];
  private head = 0;
  private readonly cursors = new Map<number, string>();
  private readonly settled = new Set<number>();
  private value: string | undefined;
  private changed = false;

  constructor(initial: string | undefined) {
    this.value = initial;
  }

  /** The cursor of the newest frame before which everything is in SQS. */
  get cursor(): string | undefined {
    return this.value;
  }

  /** True once since the last call when the cursor moved. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  /** Registers a frame on its way to SQS, with its cursor value if it has one. */
  track(seq: number, cursor: string | undefined): void {
    this.order.push(seq);
    if (cursor !== undefined) this.cursors.set(seq, cursor);
  }

  /** A tracked frame is in SQS (or will never be: dropped for a stated reason). */
  settle(seq: number): void {
    this.settled.add(seq);
    while (this.head < this.order.length && this.settled.has(this.order[this.head]!)) {
      const done = this.order[this.head++]!;
      this.settled.delete(done);
      const cursor = this.cursors.get(done);
      if (cursor !== undefined) {
        this.cursors.delete(done);
        this.value = cursor;
        this.changed = true;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Where the cursor lives between runs: a local file, or an SSM parameter on AWS. */
export interface CursorStore {
  readonly description: string;
  load(): Promise<string | undefined>;
  save(cursor: string): Promise<void>;
}
