import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * The node flags the container runs the relay with (app/Dockerfile ENTRYPOINT), as a string of flags,
 * so the benchmark measures what is deployed.
 */
export function containerNodeOptions(): string {
  const dockerfile = readFileSync(path.join(__dirname, "..", "app", "Dockerfile"), "utf8");
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!entrypoint) throw new Error("app/Dockerfile has no exec-form ENTRYPOINT");
  return (JSON.parse(entrypoint[1]!) as string[]).filter((arg) => arg.startsWith("--")).join(" ");
}

/** A relay (ws-relay or the baseline) running as its own process, measured from /proc. */
export class RelayProcess {
  readonly stderr: string[] = [];
  private readonly exited: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.resume(); // JSON logs: not needed, but the pipe must not fill up
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => this.stderr.push(chunk));
    this.exited = once(child, "exit");
  }

  /** Starts `node <script>`; `cpuProfileDir` adds --cpu-prof to find where the time goes. */
  static start(script: string, env: Record<string, string>, nodeOptions: string, cpuProfileDir?: string): RelayProcess {
    const flags = cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [];
    // As argv, the way the container's ENTRYPOINT passes them (V8 flags are refused in NODE_OPTIONS).
    const nodeFlags = nodeOptions.split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...flags, ...nodeFlags, script], {
      env: {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new RelayProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** User + system CPU time the process has used so far, in microseconds. */
  cpuMicros(): number {
    const { user, system } = this.cpuTimes();
    return user + system;
  }

  /** utime and stime from /proc/<pid>/stat, in microseconds. */
  cpuTimes(): { user: number; system: number } {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const toMicros = (ticks: string | undefined): number => (Number(ticks) * 1e6) / CLOCK_TICKS_PER_SECOND;
    return { user: toMicros(fields[11]), system: toMicros(fields[12]) }; // utime (14), stime (15)
  }

  /** Peak resident set size since the process started (VmHWM), in bytes. */
  peakRssBytes(): number {
    return this.statusKb("VmHWM") * 1024;
  }

  rssBytes(): number {
    return this.statusKb("VmRSS") * 1024;
  }

  private statusKb(field: string): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${this.pid}/status`);
    return Number(match[1]);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (a profile is written on a clean exit). */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
