import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface LocalProcess {
  readonly child: ChildProcess;
  output(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Runs `local/<script>.ts` the way the npm script does, stdout not a terminal. */
export function runLocal(script: "start" | "dlq", args: string[], env: Record<string, string> = {}): LocalProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "local", `${script}.ts`), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return {
    child,
    output: () => out,
    stderr: () => err,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** The last periodic status line's key=value pairs. */
export function lastStatus(output: string): Record<string, string> {
  const line = output.split("\n").filter((l) => l.includes(" status ") && l.includes("feed=")).pop() ?? "";
  return Object.fromEntries(line.split(" ").filter((part) => part.includes("=")).map((part) => part.split("=") as [string, string]));
}
