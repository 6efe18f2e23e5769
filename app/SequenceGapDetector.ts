/** A gap in a feed's sequence numbers: frames the feed sent that never arrived. */
export interface SequenceGap {
  readonly key: string;
  readonly expected: number;
  readonly got: number;
  readonly missing: number;
}

/** Tracks the last sequence number per key (e.g. per product) and reports jumps. */
export class SequenceGapDetector {
  private readonly last = new Map<string, number>();

  /** Returns the gap this sequence number reveals, if any. Repeats and rewinds are not gaps. */
  observe(key: string, sequence: number): SequenceGap | undefined {
    const previous = this.last.get(key);
    if (previous === undefined || sequence > previous) this.last.set(key, sequence);
    if (previous === undefined || sequence <= previous + 1) return undefined;
    return { key, expected: previous + 1, got: sequence, missing: sequence - previous - 1 };
  }
}
