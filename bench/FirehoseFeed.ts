import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** Frames are about this long, like a market-data ticker message. */
export const FRAME_BYTES = 250;
/** Above this many bytes queued in the feed's socket, the burst waits (the relay is not reading). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Wall-clock milliseconds with sub-millisecond resolution; the emulator stamps arrivals with the same clock. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Builds frame `seq` of a run: JSON with the sequence number and the send time, padded to
 * FRAME_BYTES. `run` tells runs apart so a late frame of one run never counts in another.
 */
export function frame(run: number, seq: number, sentAtMs: number): string {
  const head = `{"type":"ticker","run":${run},"seq":${seq},"sentAtMs":${sentAtMs.toFixed(3)},"pad":"`;
  return head + "x".repeat(Math.max(0, FRAME_BYTES - head.length - 2)) + '"}';
}

/** Reads back what frame() wrote, cheaply (the emulator calls this for every message). */
export function parseFrame(body: string): { run: number; seq: number; sentAtMs: number } | undefined {
  const match = /^\{"type":"ticker","run":(\d+),"seq":(\d+),"sentAtMs":([\d.]+)/.exec(body);
  return match ? { run: Number(match[1]), seq: Number(match[2]), sentAtMs: Number(match[3]) } : undefined;
}

/** A local WebSocket server that sends stamped frames to the one relay connected to it. */
export class FirehoseFeed {
  private client: WebSocket | undefined;
  private clientWaiters: Array<() => void> = [];
  connections = 0;
  /** Frames sent so far in the current steady() run. */
  sentInRun = 0;

  private constructor(private readonly wss: WebSocketServer) {
    wss.on("connection", (socket) => {
      this.connections++;
      this.client = socket;
      socket.on("error", () => undefined);
      socket.on("close", () => {
        if (this.client === socket) this.client = undefined;
      });
      for (const waiter of this.clientWaiters.splice(0)) waiter();
    });
  }

  static async start(): Promise<FirehoseFeed> {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    return new FirehoseFeed(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  async connected(timeoutMs = 15_000): Promise<void> {
    if (this.client) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no relay connected to the feed within ${timeoutMs} ms`)), timeoutMs);
      this.clientWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends `count` frames as fast as the relay reads them; resolves once all are written. */
  async burst(run: number, count: number): Promise<void> {
    let seq = 0;
    while (seq < count) {
      const socket = this.requireClient();
      while (seq < count && socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(frame(run, seq++, nowMs()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Sends `ratePerSecond` frames a second for `durationMs`, each stamped when it is sent;
   * `onTick` runs before every send round (the outage scenario flips the proxy from it).
   * Resolves with the number of frames sent.
   */
  async steady(run: number, ratePerSecond: number, durationMs: number, onTick?: (elapsedMs: number) => void): Promise<number> {
    const startMs = nowMs();
    let seq = 0;
    this.sentInRun = 0;
    for (;;) {
      const elapsedMs = nowMs() - startMs;
      if (elapsedMs >= durationMs) break;
      onTick?.(elapsedMs);
      const due = Math.floor((elapsedMs * ratePerSecond) / 1000) + 1;
      // Frames the relay has not read yet (it paused for backpressure) stay queued in the socket.
      const socket = this.requireClient();
      while (seq < due) socket.send(frame(run, seq++, nowMs()));
      this.sentInRun = seq;
      const nextMs = startMs + (seq * 1000) / ratePerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextMs - nowMs())));
    }
    return seq;
  }

  private requireClient(): WebSocket {
    if (!this.client) throw new Error("the relay disconnected from the feed during a run");
    return this.client;
  }

  async close(): Promise<void> {
    this.client?.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
