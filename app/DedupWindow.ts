/** The most recent keys seen, bounded: drops the overlap of a rotation or a resumed replay. */
export class DedupWindow {
  private readonly keys = new Set<string>();

  constructor(private readonly size: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** True when the key was seen recently; otherwise remembers it and returns false. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.size) {
      // A Set iterates in insertion order: the first key is the oldest.
      this.keys.delete(this.keys.values().next().value!);
    }
    return false;
  }
}
