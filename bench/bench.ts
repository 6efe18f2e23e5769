import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type BenchReport, FULL_RUN, type RelayName, runBench } from "./runBench";

/**
 * `npm run bench`: ws-relay and the one-SendMessage-per-frame baseline, side by side (issue 5).
 * BENCH_RELAYS=ws-relay skips the baseline; BENCH_CPU_PROF=<dir> writes a V8 profile per relay run.
 */
async function main(): Promise<void> {
  const relays = (process.env.BENCH_RELAYS ?? "ws-relay,baseline").split(",") as RelayName[];
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const report = await runBench({ ...FULL_RUN, relays, cpuProfileDir: process.env.BENCH_CPU_PROF, log });
  process.stdout.write(`${formatTable(report)}\n`);
  const dir = path.join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nfigures written to ${path.relative(process.cwd(), file)}\n`);
}

/** A Markdown table, ready to paste into the README. */
export function formatTable(report: BenchReport): string {
  const names = Object.keys(report.relays) as RelayName[];
  const rows: Array<[string, string, (name: RelayName) => string]> = [];
  const r = (name: RelayName) => report.relays[name]!;
  const { options } = report;
  rows.push([`burst of ${options.burstFrames.toLocaleString("en")} frames: events/s into the queue`, "", (n) => r(n).burst.eventsPerSecond.toLocaleString("en")]);
  rows.push(["burst: relay CPU µs per event (of it, kernel)", "≤ 20", (n) => `${r(n).burst.cpuMicrosPerEvent} (${r(n).burst.systemCpuMicrosPerEvent})`]);
  rows.push(["burst: relay CPU share of one core (bench process share)", "", (n) => `${r(n).burst.relayCpuShare} (${r(n).burst.benchCpuShare})`]);
  rows.push(["burst: SQS requests per event", "≤ 0.105", (n) => String(r(n).burst.sqsRequestsPerEvent)]);
  rows.push(["burst: peak RSS of the relay (RSS before it)", "≤ 150 MiB", (n) => `${r(n).burst.peakRssMiB} MiB (${r(n).burst.idleRssMiB})`]);
  rows.push(["burst: frames lost", "0", (n) => String(r(n).burst.lost)]);
  rows.push([`latency p50 / p99 at ${options.steadyRatePerSecond.toLocaleString("en")}/s`, "p99 ≤ 50 ms", (n) => `${r(n).steady.p50Ms} / ${r(n).steady.p99Ms} ms`]);
  rows.push([`latency p50 / p99 at ${options.slowRatePerSecond}/s`, "p50 ≤ 10 ms", (n) => `${r(n).slow.p50Ms} / ${r(n).slow.p99Ms} ms`]);
  rows.push([`SQS requests per event at ${options.steadyRatePerSecond.toLocaleString("en")}/s`, "", (n) => String(r(n).steady.sqsRequestsPerEvent)]);
  rows.push([`${options.outageSeconds} s SQS outage at ${options.steadyRatePerSecond.toLocaleString("en")}/s: peak RSS`, "≤ 32 MiB buffer + 100 MiB", (n) => `${r(n).outage.peakRssMiB} MiB`]);
  rows.push(["outage: frames lost", "0", (n) => `${r(n).outage.lost} of ${r(n).outage.framesSent.toLocaleString("en")}`]);
  rows.push(["outage: time to drain after SQS is back", "", (n) => (r(n).outage.drainSeconds === null ? "never" : `${r(n).outage.drainSeconds} s`)]);
  const header = `| measure | target (ws-relay) | ${names.join(" | ")} |`;
  const rule = `|---|---|${names.map(() => "---:").join("|")}|`;
  const lines = rows.map(([label, target, value]) => `| ${label} | ${target} | ${names.map(value).join(" | ")} |`);
  const { machine } = report;
  const footer = `\nMachine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.totalMemMiB} MiB RAM, Node ${machine.node}, ${machine.platform}; ${report.startedAt}; relays run as \`node <bundle>\`: ${Object.entries(report.relayNodeOptions).map(([name, flags]) => `${name} with ${flags ? `node ${flags}` : "no node flags"}`).join(", ")}.\nLatency: ${report.latencyMeasures}.`;
  return [header, rule, ...lines].join("\n") + footer;
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
