import type { AddressInfo } from "node:net";
import { type RawData, type WebSocket, WebSocketServer } from "ws";

export interface DemoFeedOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Ticker events per second, per subscribed product. */
  readonly eventsPerSecond: number;
  readonly heartbeatIntervalMs: number;
  /** The feed hangs up on each connection this long after it subscribed (0 = never). */
  readonly hangupAfterMs: number;
  /** How often a truncated (poison) ticker is sent on a connection (0 = never). */
  readonly poisonIntervalMs: number;
  /** Like Coinbase: no subscribe message within this long and the feed hangs up. */
  readonly subscribeTimeoutMs: number;
}

export const DEMO_FEED_DEFAULTS = Object.freeze({
  eventsPerSecond: 10,
  heartbeatIntervalMs: 1_000,
  // A newcomer should see a reconnect and a DLQ message within a minute of `npm start`.
  hangupAfterMs: 20_000,
  poisonIntervalMs: 10_000,
  subscribeTimeoutMs: 5_000,
});

/** What the demo feed has done, for the summary and the tests. */
export interface DemoFeedStats {
  connections: number;
  tickers: number;
  heartbeats: number;
  poison: number;
  hangups: number;
}

interface Subscription {
  readonly products: readonly string[];
  readonly timers: Array<NodeJS.Timeout>;
}

const BASE_PRICES: Readonly<Record<string, number>> = { "BTC-USD": 97_000, "ETH-USD": 3_600, "SOL-USD": 180 };

/**
 * A local WebSocket feed shaped like the Coinbase Exchange ticker: it wants a `subscribe` message,
 * then sends `subscriptions`, per-product `heartbeat`s and sequenced `ticker` events. Now and then
 * it hangs up, and now and then it sends a truncated ticker — the poison message the default
 * consumer handler refuses, so that it ends in the DLQ. Sequence numbers run per product across
 * connections, as on the real feed, so the relay sees (and reports) the gap a hang-up leaves.
 */
export class DemoFeed {
  readonly stats: DemoFeedStats = { connections: 0, tickers: 0, heartbeats: 0, poison: 0, hangups: 0 };
  private readonly sequences = new Map<string, number>();
  private readonly sockets = new Set<WebSocket>();
  private closed = false;

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly options: DemoFeedOptions,
  ) {
    wss.on("connection", (socket) => this.onConnection(socket));
  }

  static async start(options: DemoFeedOptions): Promise<DemoFeed> {
    const wss = new WebSocketServer({ port: options.port, host: options.host ?? "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new DemoFeed(wss, options);
  }

  get url(): string {
    const address = this.wss.address() as AddressInfo;
    return `ws://${address.address}:${address.port}`;
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    this.stats.connections++;
    this.sockets.add(socket);
    let subscription: Subscription | undefined;
    const subscribeTimer = setTimeout(() => {
      send(socket, { type: "error", message: "Failed to subscribe", reason: `no subscribe message within ${this.options.subscribeTimeoutMs} ms` });
      socket.close(1008, "subscribe timeout");
    }, this.options.subscribeTimeoutMs);

    const onMessage = (data: RawData): void => {
      let request: { type?: unknown; product_ids?: unknown; channels?: unknown };
      try {
        request = JSON.parse(data.toString()) as typeof request;
      } catch {
        send(socket, { type: "error", message: "Malformed JSON" });
        return;
      }
      if (request.type !== "subscribe" || subscription) return;
      const products = Array.isArray(request.product_ids) ? request.product_ids.filter((p): p is string => typeof p === "string") : [];
      if (products.length === 0) {
        send(socket, { type: "error", message: "Failed to subscribe", reason: "product_ids must name at least one product" });
        return;
      }
      clearTimeout(subscribeTimer);
      subscription = this.subscribe(socket, products);
    };
    const onClose = (): void => {
      clearTimeout(subscribeTimer);
      for (const timer of subscription?.timers ?? []) clearInterval(timer);
      this.sockets.delete(socket);
      socket.off("message", onMessage);
      socket.off("close", onClose);
    };
    socket.on("message", onMessage);
    socket.on("close", onClose);
    socket.on("error", () => undefined);
  }

  private subscribe(socket: WebSocket, products: readonly string[]): Subscription {
    const { eventsPerSecond, heartbeatIntervalMs, hangupAfterMs, poisonIntervalMs } = this.options;
    send(socket, { type: "subscriptions", channels: [{ name: "heartbeat", product_ids: products }, { name: "ticker", product_ids: products }] });
    const timers: NodeJS.Timeout[] = [];
    let lastTicker = "";
    if (eventsPerSecond > 0) {
      timers.push(
        setInterval(() => {
          for (const product of products) {
            lastTicker = JSON.stringify(this.ticker(product));
            if (socket.readyState === socket.OPEN) socket.send(lastTicker);
            this.stats.tickers++;
          }
        }, 1000 / eventsPerSecond),
      );
    }
    if (heartbeatIntervalMs > 0) {
      timers.push(
        setInterval(() => {
          for (const product of products) {
            // A heartbeat repeats the product's current sequence number; it is not a new event.
            send(socket, { type: "heartbeat", sequence: this.sequences.get(product) ?? 0, last_trade_id: this.sequences.get(product) ?? 0, product_id: product, time: new Date().toISOString() });
            this.stats.heartbeats++;
          }
        }, heartbeatIntervalMs),
      );
    }
    if (poisonIntervalMs > 0) {
      timers.push(
        setInterval(() => {
          // A ticker cut off mid-way, as a buggy feed or proxy might deliver it. It reuses the last
          // ticker's text, so it takes no sequence number of its own.
          const whole = lastTicker || JSON.stringify(this.ticker(products[0]!));
          if (socket.readyState === socket.OPEN) socket.send(whole.slice(0, Math.floor(whole.length / 2)));
          this.stats.poison++;
        }, poisonIntervalMs),
      );
    }
    if (hangupAfterMs > 0) {
      timers.push(
        setTimeout(() => {
          // No close frame: the way a load balancer or a restarting server drops a connection.
          this.stats.hangups++;
          socket.terminate();
        }, hangupAfterMs),
      );
    }
    return { products, timers };
  }

  private ticker(product: string): Record<string, unknown> {
    const sequence = (this.sequences.get(product) ?? 0) + 1;
    this.sequences.set(product, sequence);
    const base = BASE_PRICES[product] ?? 100;
    const price = base * (1 + 0.002 * Math.sin(sequence / 50) + 0.0005 * (Math.random() - 0.5));
    return {
      type: "ticker",
      sequence,
      product_id: product,
      price: price.toFixed(2),
      best_bid: (price - 0.01).toFixed(2),
      best_ask: (price + 0.01).toFixed(2),
      last_size: (Math.random() / 10).toFixed(8),
      side: sequence % 2 === 0 ? "buy" : "sell",
      trade_id: sequence,
      time: new Date().toISOString(),
    };
  }
}

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
