import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..");

/** The relay's counters and gauges from /metrics, summed over labels. */
export type RelayMetricValues = Readonly<Record<string, number>>;

export interface RelayProcessOptions {
  /** The container's environment contract: RELAY_*, AWS_*, LOG_LEVEL. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Each line the relay writes (stdout and stderr). */
  readonly onLine: (line: string, stream: "stdout" | "stderr") => void;
}

/**
 * The relay as its own process — `node --import tsx app/main.ts`, the code and environment the
 * container runs — in a process group of its own, so that a terminal's Ctrl-C reaches only the
 * pipeline, which then stops the relay first and waits for its flush.
 */
export class RelayProcess {
  readonly exited: Promise<number | null>;
  private constructor(
    private readonly child: ChildProcess,
    readonly healthPort: number,
  ) {
    this.exited = once(child, "exit").then(([code]) => code as number | null);
  }

  static async spawn(options: RelayProcessOptions): Promise<RelayProcess> {
    // RELAY_HEALTH_PORT=0 turns the server off, so find a free port for it.
    const healthPort = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "app", "main.ts")], {
      cwd: REPO_ROOT,
      env: { ...options.env, RELAY_HEALTH_PORT: String(healthPort) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const relay = new RelayProcess(child, healthPort);
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]!.setEncoding("utf8").on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line.trim() !== "") options.onLine(line, stream);
      });
      child[stream]!.on("end", () => partial.trim() !== "" && options.onLine(partial, stream));
    }
    // Whatever ends this process, the relay must not outlive it.
    const killOnExit = (): void => relay.kill();
    process.once("exit", killOnExit);
    void relay.exited.then(() => process.off("exit", killOnExit));
    return relay;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Scrapes /metrics; `undefined` while the server is not (or no longer) answering. */
  async metrics(): Promise<RelayMetricValues | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.healthPort}/metrics`, { signal: AbortSignal.timeout(1_000) });
      if (!response.ok) return undefined;
      return parsePrometheus(await response.text());
    } catch {
      return undefined;
    }
  }

  /** SIGTERM: the relay closes the feed (1001), flushes to SQS and exits. */
  terminate(): void {
    if (this.running) this.child.kill("SIGTERM");
  }

  kill(): void {
    if (this.running) this.child.kill("SIGKILL");
  }
}

/** Sums each metric's samples over its labels (`relay_frames_received_total{type="text"} 3`). */
export function parsePrometheus(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) values[match[1]!] = (values[match[1]!] ?? 0) + value;
  }
  return values;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
