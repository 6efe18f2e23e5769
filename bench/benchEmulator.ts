import type { FauxqsServer } from "fauxqs" with { "resolution-mode": "import" };
import { nowMs, parseFrame } from "./FirehoseFeed";

/** One frame as it reached the queue. */
export interface Arrival {
  readonly run: number;
  readonly seq: number;
  readonly sentAtMs: number;
  readonly arrivedAtMs: number;
}

export interface BenchEmulator {
  readonly port: number;
  createQueue(name: string): string;
  deleteQueue(name: string): void;
  /** Called for every message the emulator stores, at the moment it stores it. */
  onArrival: ((arrival: Arrival) => void) | undefined;
  stop(): Promise<void>;
}

/**
 * fauxqs in this process, with a hook on its message spy: the spy is told about every message
 * when the queue stores it, which is the arrival time the bench reports. The spy's own buffer is
 * bypassed so a 60,000-frame run does not fill it.
 */
export async function startBenchEmulator(): Promise<BenchEmulator> {
  const { startFauxqs } = await import("fauxqs");
  const server: FauxqsServer = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false, messageSpies: true });
  const emulator: BenchEmulator = {
    port: server.port,
    onArrival: undefined,
    createQueue(name) {
      // SQS takes up to 1 MiB (FACTS.md: some tools default lower).
      return server.createQueue(name, { attributes: { MaximumMessageSize: "1048576" } }).queueUrl;
    },
    deleteQueue: (name) => server.deleteQueue(name),
    stop: () => server.stop(),
  };
  const spy = server.spy as unknown as { addMessage(message: { service: string; status: string; body?: string }): void };
  spy.addMessage = (message) => {
    if (message.service !== "sqs" || message.status !== "published" || message.body === undefined) return;
    const arrivedAtMs = nowMs();
    const parsed = parseFrame(message.body);
    if (parsed) emulator.onArrival?.({ ...parsed, arrivedAtMs });
  };
  return emulator;
}
