import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { type Arrival, type BenchEmulator, startBenchEmulator } from "./benchEmulator";
import { CountingProxy } from "./CountingProxy";
import { FirehoseFeed, nowMs } from "./FirehoseFeed";
import { containerNodeOptions, RelayProcess } from "./RelayProcess";

const REPO_ROOT = path.resolve(__dirname, "..");
const MiB = 1024 * 1024;

export type RelayName = "ws-relay" | "baseline";

export interface BenchOptions {
  readonly relays: readonly RelayName[];
  readonly burstFrames: number;
  readonly steadyRatePerSecond: number;
  readonly steadySeconds: number;
  readonly slowRatePerSecond: number;
  readonly slowSeconds: number;
  readonly outageSeconds: number;
  /** Steady traffic before the outage starts. */
  readonly outageLeadSeconds: number;
  /** How long the feed keeps going after SQS is back. */
  readonly outageTailSeconds: number;
  /** How long to wait with no new arrival before calling the rest lost. */
  readonly drainTimeoutSeconds: number;
  /** When set, each relay process writes a V8 CPU profile here. */
  readonly cpuProfileDir?: string;
  readonly log?: (line: string) => void;
}

export const FULL_RUN: Omit<BenchOptions, "relays"> = {
  burstFrames: 60_000,
  steadyRatePerSecond: 2_000,
  steadySeconds: 12,
  slowRatePerSecond: 20,
  slowSeconds: 15,
  outageSeconds: 30,
  outageLeadSeconds: 3,
  outageTailSeconds: 10,
  drainTimeoutSeconds: 15,
};

export interface BurstResult {
  frames: number;
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  /** The kernel's share of it (loopback TCP is mostly charged to the process that writes). */
  systemCpuMicrosPerEvent: number;
  /** Relay CPU time over wall time: near 1 means the relay is the bottleneck (one core). */
  relayCpuShare: number;
  /** Same for this process, which runs the feed, the proxy and the emulator. */
  benchCpuShare: number;
  sqsRequests: Record<string, number>;
  sqsRequestsPerEvent: number;
  peakRssMiB: number;
  /** RSS once started and connected, before the burst. */
  idleRssMiB: number;
  lost: number;
}

export interface LatencyResult {
  ratePerSecond: number;
  frames: number;
  /** Frames measured (the first second is warm-up and left out). */
  measured: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sqsRequestsPerEvent: number;
  lost: number;
}

export interface OutageResult {
  outageSeconds: number;
  ratePerSecond: number;
  framesSent: number;
  framesSentBeforeRestore: number;
  peakRssMiB: number;
  maxBufferBytes: number;
  lost: number;
  /** From SQS coming back until every frame sent before that is in the queue; null if never. */
  drainSeconds: number | null;
}

export interface RelayResult {
  burst: BurstResult;
  steady: LatencyResult;
  slow: LatencyResult;
  outage: OutageResult;
}

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; node: string; platform: string; totalMemMiB: number };
  startedAt: string;
  options: Omit<BenchOptions, "log" | "cpuProfileDir">;
  /** Node flags each relay ran with (on its command line): the container's flags for ws-relay, none for the baseline, unless BENCH_RELAY_NODE_OPTIONS says otherwise. */
  relayNodeOptions: Record<RelayName, string>;
  latencyMeasures: string;
  relays: Partial<Record<RelayName, RelayResult>>;
}

/** ws-relay's default RELAY_MAX_BUFFER_BYTES (issue 2). */
const DEFAULT_MAX_BUFFER_BYTES = 33_554_432;

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Bundles both relays the way `npm run build:relay` does, so both run as plain `node file.js`. */
async function bundleRelays(outDir: string): Promise<Record<RelayName, string>> {
  const scripts = { "ws-relay": path.join(outDir, "relay.js"), baseline: path.join(outDir, "baseline-relay.js") };
  const common = { bundle: true, platform: "node", target: "node20", sourcemap: true, logLevel: "error" } as const;
  await build({ ...common, entryPoints: [path.join(REPO_ROOT, "app", "main.ts")], outfile: scripts["ws-relay"] });
  await build({ ...common, entryPoints: [path.join(REPO_ROOT, "bench", "baselineRelay.ts")], outfile: scripts.baseline });
  return scripts;
}

/** Tracks which frames of one run reached the queue. */
class RunTracker {
  readonly seen: Uint8Array;
  readonly latencyMs: number[] = [];
  unique = 0;
  duplicates = 0;
  lastArrivalMs = 0;
  /** Set by watch(): when every frame below the watermark had arrived. */
  allBelowWatermarkAtMs: number | undefined;
  private watermark = 0;
  private arrivedBelowWatermark = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly run: number,
    capacity: number,
    private readonly measureFromMs = Infinity,
  ) {
    this.seen = new Uint8Array(capacity);
  }

  record(arrival: Arrival): void {
    if (arrival.run !== this.run) return;
    if (this.seen[arrival.seq]) {
      this.duplicates++;
      return;
    }
    this.seen[arrival.seq] = 1;
    this.unique++;
    this.lastArrivalMs = arrival.arrivedAtMs;
    if (arrival.seq < this.watermark && ++this.arrivedBelowWatermark === this.watermark) this.allBelowWatermarkAtMs = arrival.arrivedAtMs;
    if (arrival.sentAtMs >= this.measureFromMs) this.latencyMs.push(arrival.arrivedAtMs - arrival.sentAtMs);
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** From now on, notes when every frame with seq < watermark has arrived. */
  watch(watermark: number, nowMs: number): void {
    this.watermark = watermark;
    this.arrivedBelowWatermark = 0;
    for (let i = 0; i < watermark; i++) this.arrivedBelowWatermark += this.seen[i]!;
    this.allBelowWatermarkAtMs = this.arrivedBelowWatermark === watermark ? nowMs : undefined;
  }

  /** Waits until `done()` holds, or `timeoutMs` passes with no new arrival. */
  async waitUntil(done: () => boolean, stallTimeoutMs: number): Promise<boolean> {
    let lastUnique = -1;
    let lastProgressAt = Date.now();
    while (!done()) {
      if (this.unique !== lastUnique) {
        lastUnique = this.unique;
        lastProgressAt = Date.now();
      } else if (Date.now() - lastProgressAt > stallTimeoutMs) {
        return false;
      }
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), sleep(100)]);
    }
    return true;
  }
}

interface Rig {
  readonly emulator: BenchEmulator;
  readonly proxy: CountingProxy;
  readonly feed: FirehoseFeed;
  readonly scripts: Record<RelayName, string>;
  runCounter: number;
}

/** ws-relay runs with the container's node flags; the baseline, like most hand-written relays, with none. */
function relayNodeOptions(name: RelayName): string {
  return process.env.BENCH_RELAY_NODE_OPTIONS ?? (name === "ws-relay" ? containerNodeOptions() : "");
}

async function withRelay<T>(rig: Rig, name: RelayName, options: BenchOptions, act: (relay: RelayProcess, run: number, track: (tracker: RunTracker) => void) => Promise<T>): Promise<T> {
  const run = ++rig.runCounter;
  const queueName = `bench-${run}`;
  const queueUrl = rig.emulator.createQueue(queueName);
  rig.proxy.setMode("pass");
  const relay = RelayProcess.start(
    rig.scripts[name],
    { RELAY_URL: rig.feed.url, RELAY_QUEUE_URL: queueUrl, AWS_ENDPOINT_URL_SQS: rig.proxy.endpoint, RELAY_HEALTH_PORT: "0", LOG_LEVEL: "info" },
    relayNodeOptions(name),
    options.cpuProfileDir,
  );
  try {
    await rig.feed.connected();
    await sleep(500); // let it finish starting before anything is measured
    rig.proxy.resetCounts();
    return await act(relay, run, (tracker) => (rig.emulator.onArrival = (arrival) => tracker.record(arrival)));
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}; relay stderr: ${relay.stderr.join("").slice(-2000)}`, { cause: error });
  } finally {
    rig.emulator.onArrival = undefined;
    await relay.stop();
    rig.proxy.setMode("pass");
    rig.emulator.deleteQueue(queueName);
    await sleep(200); // the old connection's close, before the next relay connects
  }
}

async function measureBurst(rig: Rig, name: RelayName, options: BenchOptions): Promise<BurstResult> {
  return withRelay(rig, name, options, async (relay, run, track) => {
    const frames = options.burstFrames;
    const tracker = new RunTracker(run, frames);
    track(tracker);
    const idleRssMiB = round(relay.rssBytes() / MiB);
    const cpuBefore = relay.cpuTimes();
    const benchCpuBefore = process.cpuUsage();
    const startMs = nowMs();
    await rig.feed.burst(run, frames);
    await tracker.waitUntil(() => tracker.unique >= frames, options.drainTimeoutSeconds * 1000);
    const endMs = tracker.unique >= frames ? tracker.lastArrivalMs : nowMs();
    const wallMicros = (endMs - startMs) * 1000;
    const cpuAfter = relay.cpuTimes();
    const cpuMicros = cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const sqsRequests = Object.fromEntries(rig.proxy.requests);
    return {
      frames,
      eventsPerSecond: Math.round(tracker.unique / ((endMs - startMs) / 1000)),
      cpuMicrosPerEvent: round(cpuMicros / frames),
      systemCpuMicrosPerEvent: round((cpuAfter.system - cpuBefore.system) / frames),
      relayCpuShare: round(cpuMicros / wallMicros, 2),
      benchCpuShare: round((benchCpu.user + benchCpu.system) / wallMicros, 2),
      sqsRequests,
      sqsRequestsPerEvent: round(rig.proxy.totalRequests / frames, 4),
      peakRssMiB: round(relay.peakRssBytes() / MiB),
      idleRssMiB,
      lost: frames - tracker.unique,
    };
  });
}

async function measureLatency(rig: Rig, name: RelayName, options: BenchOptions, ratePerSecond: number, seconds: number): Promise<LatencyResult> {
  return withRelay(rig, name, options, async (_relay, run, track) => {
    const capacity = Math.ceil(ratePerSecond * seconds) + 10;
    const warmUpMs = Math.min(1_000, (seconds * 1000) / 4);
    const tracker = new RunTracker(run, capacity, nowMs() + warmUpMs);
    track(tracker);
    const sent = await rig.feed.steady(run, ratePerSecond, seconds * 1000);
    await tracker.waitUntil(() => tracker.unique >= sent, options.drainTimeoutSeconds * 1000);
    const sorted = [...tracker.latencyMs].sort((a, b) => a - b);
    return {
      ratePerSecond,
      frames: sent,
      measured: sorted.length,
      p50Ms: round(percentile(sorted, 50), 2),
      p99Ms: round(percentile(sorted, 99), 2),
      maxMs: round(sorted[sorted.length - 1] ?? NaN, 2),
      sqsRequestsPerEvent: round(rig.proxy.totalRequests / sent, 4),
      lost: sent - tracker.unique,
    };
  });
}

async function measureOutage(rig: Rig, name: RelayName, options: BenchOptions): Promise<OutageResult> {
  return withRelay(rig, name, options, async (relay, run, track) => {
    const rate = options.steadyRatePerSecond;
    const outageStartMs = options.outageLeadSeconds * 1000;
    const outageEndMs = outageStartMs + options.outageSeconds * 1000;
    // Keep the feed going after SQS is back: a relay drains while new frames keep arriving.
    const totalMs = outageEndMs + options.outageTailSeconds * 1000;
    const tracker = new RunTracker(run, Math.ceil((rate * totalMs) / 1000) + 10);
    track(tracker);
    let restoredAtMs = 0;
    let sentBeforeRestore = 0;
    let mode: "before" | "during" | "after" = "before";
    const sent = await rig.feed.steady(run, rate, totalMs, (elapsedMs) => {
      if (mode === "before" && elapsedMs >= outageStartMs) {
        mode = "during";
        rig.proxy.setMode("refuse");
      } else if (mode === "during" && elapsedMs >= outageEndMs) {
        mode = "after";
        sentBeforeRestore = rig.feed.sentInRun;
        restoredAtMs = nowMs();
        tracker.watch(sentBeforeRestore, restoredAtMs);
        rig.proxy.setMode("pass");
      }
    });
    const peakRssDuringMiB = relay.peakRssBytes() / MiB;
    await tracker.waitUntil(() => tracker.unique >= sent, options.drainTimeoutSeconds * 1000);
    const drainedAtMs = tracker.allBelowWatermarkAtMs;
    return {
      outageSeconds: options.outageSeconds,
      ratePerSecond: rate,
      framesSent: sent,
      framesSentBeforeRestore: sentBeforeRestore,
      peakRssMiB: round(Math.max(peakRssDuringMiB, relay.peakRssBytes() / MiB)),
      maxBufferBytes: DEFAULT_MAX_BUFFER_BYTES,
      lost: sent - tracker.unique,
      drainSeconds: drainedAtMs === undefined ? null : round((drainedAtMs - restoredAtMs) / 1000, 2),
    };
  });
}

/** Runs every scenario against each relay in turn and returns the figures. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => undefined);
  const outDir = path.join(REPO_ROOT, "dist", "bench");
  mkdirSync(outDir, { recursive: true });
  const scripts = await bundleRelays(outDir);
  const emulator = await startBenchEmulator();
  const proxy = await CountingProxy.start(emulator.port);
  const feed = await FirehoseFeed.start();
  const rig: Rig = { emulator, proxy, feed, scripts, runCounter: 0 };
  const { log: _log, cpuProfileDir: _dir, ...recorded } = options;
  const report: BenchReport = {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version, platform: `${os.platform()} ${os.release()}`, totalMemMiB: Math.round(os.totalmem() / MiB) },
    startedAt: new Date().toISOString(),
    options: recorded,
    relayNodeOptions: { "ws-relay": relayNodeOptions("ws-relay"), baseline: relayNodeOptions("baseline") },
    latencyMeasures:
      "feed send (stamped in the frame) to the emulator storing the message (fauxqs message spy), both on this process's clock; the first second of each run is warm-up and left out",
    relays: {},
  };
  try {
    for (const name of options.relays) {
      log(`${name}: burst of ${options.burstFrames} frames`);
      const burst = await measureBurst(rig, name, options);
      log(`${name}: steady ${options.steadyRatePerSecond}/s for ${options.steadySeconds} s`);
      const steady = await measureLatency(rig, name, options, options.steadyRatePerSecond, options.steadySeconds);
      log(`${name}: steady ${options.slowRatePerSecond}/s for ${options.slowSeconds} s`);
      const slow = await measureLatency(rig, name, options, options.slowRatePerSecond, options.slowSeconds);
      log(`${name}: ${options.outageSeconds} s SQS outage at ${options.steadyRatePerSecond}/s`);
      const outage = await measureOutage(rig, name, options);
      report.relays[name] = { burst, steady, slow, outage };
    }
  } finally {
    await feed.close();
    await proxy.close();
    await emulator.stop();
  }
  return report;
}
