import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** How the proxy treats connections: pass them on, refuse them, or accept and never answer. */
export type ProxyMode = "pass" | "refuse" | "hang";

/**
 * A TCP proxy on a free loopback port in front of the emulator, to cut SQS off or make it hang
 * the way a broken network does.
 */
export class TcpProxy {
  private modeValue: ProxyMode = "pass";
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly targetPort: number,
    private readonly onRequestData: ((chunk: Buffer, connection: object) => void) | undefined,
  ) {
    // No Nagle: a proxy that holds back small writes would add its own latency to every call.
    this.server = createServer({ noDelay: true }, (client) => this.accept(client));
  }

  /** `onRequestData` sees every chunk a client sends (e.g. to count requests on the wire). */
  static async start(targetPort: number, onRequestData?: (chunk: Buffer, connection: object) => void): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, onRequestData);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.modeValue;
  }

  /** Switches mode; existing connections are cut so the change takes effect at once. */
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
    if (this.modeValue === "hang") {
      client.resume(); // swallow the request; never answer
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
    const observe = this.onRequestData;
    if (observe) client.on("data", (chunk: Buffer) => observe(chunk, client));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
