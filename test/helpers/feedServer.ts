import type { AddressInfo } from "node:net";
import { type RawData, WebSocket, WebSocketServer, type ServerOptions } from "ws";
import type { IncomingMessage } from "node:http";

export interface FeedClient {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  /** Text of every message the relay sent on this connection, in order. */
  readonly received: string[];
}

/** A real WebSocket server on a free loopback port that records what each connection sends. */
export class FeedServer {
  readonly clients: FeedClient[] = [];
  private readonly wss: WebSocketServer;
  private readonly connectionWaiters: Array<(client: FeedClient) => void> = [];

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on("connection", (socket, request) => {
      const client: FeedClient = { socket, request, received: [] };
      socket.on("message", (data: RawData) => client.received.push(data.toString()));
      socket.on("error", () => undefined);
      this.clients.push(client);
      for (const waiter of this.connectionWaiters.splice(0)) waiter(client);
    });
  }

  static async start(options: Omit<ServerOptions, "port"> = {}): Promise<FeedServer> {
    const wss = new WebSocketServer({ ...options, port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    return new FeedServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  get latest(): FeedClient | undefined {
    return this.clients[this.clients.length - 1];
  }

  /** Resolves with the n-th connection (1-based) once it exists. */
  async connection(n: number, timeoutMs = 10_000): Promise<FeedClient> {
    const deadline = Date.now() + timeoutMs;
    while (this.clients.length < n) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`expected connection #${n}, saw ${this.clients.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.connectionWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.clients[n - 1]!;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
