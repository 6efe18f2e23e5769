/**
 * The terminal view: on a TTY one status line redrawn in place, with log lines printed above it;
 * otherwise every status and log line is a plain line of its own (CI logs, pipes, tests).
 */
export class StatusDisplay {
  private lastStatus = "";

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  log(line: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${line}\n${this.fit(this.lastStatus)}`);
    else this.out.write(`${line}\n`);
  }

  status(line: string): void {
    this.lastStatus = line;
    if (this.tty) this.out.write(`\r\x1b[2K${this.fit(line)}`);
    else this.out.write(`${line}\n`);
  }

  /** Leaves the last status line on screen and moves below it. */
  end(): void {
    if (this.tty && this.lastStatus !== "") this.out.write("\n");
    this.lastStatus = "";
  }

  private fit(line: string): string {
    const columns = this.out.columns ?? 120;
    return line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
  }
}

const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, critical: 60, silent: Infinity };

export function levelNumber(level: unknown): number {
  if (typeof level === "number") return level;
  return typeof level === "string" ? (LEVELS[level.toLowerCase()] ?? 30) : 30;
}

// Fields every line has, or that say nothing in a terminal.
const QUIET_FIELDS = new Set([
  "level", "time", "timestamp", "pid", "hostname", "msg", "message", "service", "sampling_rate", "xray_trace_id",
  "function_arn", "function_name", "function_memory_size", "function_request_id", "cold_start",
]);

/**
 * One JSON log line (the relay's pino, the consumer's Powertools) as a short human line:
 * `12:00:01 relay    WARN  sequence gap: the feed skipped messages key=BTC-USD missing=12`.
 * Text that is not JSON is shown as it is.
 */
export function formatLogLine(source: string, line: string, minLevel: number): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${clock()} ${source.padEnd(8)} ${line}`;
  }
  if (typeof entry !== "object" || entry === null) return `${clock()} ${source.padEnd(8)} ${line}`;
  const level = levelNumber(entry.level);
  if (level < minLevel) return undefined;
  const name = (Object.entries(LEVELS).find(([, n]) => n === level)?.[0] ?? "info").toUpperCase();
  const fields = Object.entries(entry)
    .filter(([key, value]) => !QUIET_FIELDS.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return [clock(), source.padEnd(8), name.padEnd(5), String(entry.msg ?? entry.message ?? ""), ...fields].join(" ");
}

function fieldText(value: unknown): string {
  if (typeof value === "object" && value !== null && "message" in value) {
    const error = value as { name?: unknown; message?: unknown };
    return JSON.stringify(`${String(error.name ?? "Error")}: ${String(error.message)}`);
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /[\s"]/.test(text) ? JSON.stringify(text) : text;
}

export function clock(now = new Date()): string {
  return now.toTimeString().slice(0, 8);
}

/** Recent samples (feed→consumer ages) and their percentiles. */
export class AgeWindow {
  private readonly samples: Array<{ atMs: number; value: number }> = [];

  constructor(private readonly capacity = 20_000) {}

  add(value: number, atMs = Date.now()): void {
    this.samples.push({ atMs, value });
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank percentile of the samples newer than `sinceMs` (all by default). */
  percentile(p: number, sinceMs = 0): number | undefined {
    const values = this.samples.filter((sample) => sample.atMs >= sinceMs).map((sample) => sample.value);
    if (values.length === 0) return undefined;
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];
  }
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
