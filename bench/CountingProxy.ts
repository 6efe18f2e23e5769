import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** pass: forward to the emulator; refuse: reset every connection, like SQS unreachable. */
export type ProxyMode = "pass" | "refuse";

const TARGET_HEADER = "x-amz-target: amazonsqs.";

/**
 * A TCP proxy in front of the emulator that counts the SQS requests passing through it, by
 * action (the AWS JSON protocol names the action in the `X-Amz-Target` header). Counting on the
 * wire, not from a relay's own figures, is what makes "requests per event" comparable.
 */
export class CountingProxy {
  readonly requests = new Map<string, number>();
  private modeValue: ProxyMode = "pass";
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {
    server.on("connection", (client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<CountingProxy> {
    // No Nagle: a proxy that holds back small writes would add its own latency to every call.
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return new CountingProxy(server, targetPort);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get totalRequests(): number {
    let total = 0;
    for (const count of this.requests.values()) total += count;
    return total;
  }

  resetCounts(): void {
    this.requests.clear();
  }

  /** Switches mode; open connections are cut so the change takes effect at once. */
  setMode(mode: ProxyMode): void {
    this.modeValue = mode;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    client.on("error", () => undefined);
    if (this.modeValue === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: this.targetPort, host: "127.0.0.1", noDelay: true });
    this.sockets.add(upstream);
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    // Headers may straddle two chunks: keep the tail of the previous one.
    let tail = "";
    client.on("data", (chunk: Buffer) => {
      const text = tail + chunk.toString("latin1").toLowerCase();
      let counted = 0;
      let at = text.indexOf(TARGET_HEADER);
      while (at !== -1) {
        const end = text.indexOf("\r", at);
        if (end === -1) break;
        const action = text.slice(at + TARGET_HEADER.length, end);
        this.requests.set(action, (this.requests.get(action) ?? 0) + 1);
        counted = end;
        at = text.indexOf(TARGET_HEADER, end);
      }
      tail = text.slice(Math.max(counted, text.length - (TARGET_HEADER.length + 40)));
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
