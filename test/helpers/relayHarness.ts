import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { parseConfig } from "../../app/config";
import { createLogger } from "../../app/createLogger";
import { createCursorStore } from "../../app/createCursorStore";
import { createSqsSender } from "../../app/createSqsSender";
import { HealthServer } from "../../app/HealthServer";
import { Relay } from "../../app/Relay";

/** The SDK wants a region and credentials even for the emulator. */
export const FAKE_AWS_ENV = Object.freeze({
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  // Tests run on Node 20; the deploy targets Node 22. The SDK's notice about that is noise here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});
for (const [key, value] of Object.entries(FAKE_AWS_ENV)) process.env[key] ??= value;

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface InProcessRelay {
  readonly relay: Relay;
  /** Every log line, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  readonly healthUrl: string;
  metricsText(): Promise<string>;
  /** The value of one sample in /metrics (0 when absent). */
  metric(name: string, labels?: string): Promise<number>;
  stop(deadlineMs?: number): Promise<number>;
}

/** Runs the relay in this process with a real SQS client, logger and health server. */
export async function startRelay(env: Record<string, string>): Promise<InProcessRelay> {
  const config = parseConfig({ RELAY_HEALTH_PORT: "0", LOG_LEVEL: "debug", ...env });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const sqs = createSqsSender({ endpoint: config.sqsEndpoint, maxSockets: config.maxInFlight * 2 });
  const relay = new Relay(config, { sqs, logger, defaultMetrics: false, cursorStore: createCursorStore(config) });
  const health = new HealthServer({ source: relay, registry: relay.metrics.registry, unhealthyAfterMs: config.unhealthyAfterMs });
  const port = await health.listen(0, "127.0.0.1");
  await relay.start();
  const healthUrl = `http://127.0.0.1:${port}`;
  const metricsText = async (): Promise<string> => (await fetch(`${healthUrl}/metrics`)).text();
  return {
    relay,
    logs,
    healthUrl,
    metricsText,
    async metric(name, labels) {
      const text = await metricsText();
      const wanted = labels ? `${name}{${labels}}` : name;
      const line = text.split("\n").find((l) => l.startsWith(`${wanted} `));
      return line ? Number(line.split(" ")[1]) : 0;
    },
    async stop(deadlineMs = 5_000) {
      const { undelivered } = await relay.shutdown(Date.now() + deadlineMs);
      await health.close();
      sqs.destroy();
      return undelivered;
    },
  };
}

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Parsed JSON log lines from stdout. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/**
 * Runs the relay as its own process: `app/main.ts` the way `npm run relay` does, or a built
 * bundle (`dist/relay.js`) the way the container does.
 */
export function spawnRelay(env: Record<string, string>, options: { bundle?: string } = {}): RelayProcess {
  const args = options.bundle ? [options.bundle] : ["--import", "tsx", path.join(REPO_ROOT, "app", "main.ts")];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", ...FAKE_AWS_ENV, RELAY_HEALTH_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let partial = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    stdout.push(...lines.filter((l) => l !== ""));
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = once(child, "exit").then(([code, signal]) => {
    if (partial) stdout.push(partial);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    stdout,
    stderr,
    logs: () =>
      stdout.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
