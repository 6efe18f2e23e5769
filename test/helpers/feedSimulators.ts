import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

/** An HTTP + WebSocket server on one free loopback port, the shape every simulator shares. */
abstract class Simulator {
  protected readonly http: Server;
  protected readonly wss: WebSocketServer;
  readonly sockets: WebSocket[] = [];
  /** Every connection's open and close times, in order of opening. */
  readonly connections: Array<{ openedAt: number; closedAt?: number; url: string }> = [];

  protected constructor(wsOptions: { perMessageDeflate?: boolean } = {}) {
    this.http = createServer((req, res) => this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, ...wsOptions });
    this.http.on("upgrade", (req, socket, head) => {
      if (!this.acceptUpgrade(req)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const record: { openedAt: number; closedAt?: number; url: string } = { openedAt: Date.now(), url: req.url ?? "" };
        this.connections.push(record);
        this.sockets.push(ws);
        ws.on("close", () => (record.closedAt = Date.now()));
        ws.on("error", () => undefined);
        this.onConnection(ws, req);
      });
    });
  }

  protected async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, "127.0.0.1", () => resolve()));
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get origin(): string {
    return `127.0.0.1:${this.port}`;
  }

  get open(): WebSocket[] {
    return this.sockets.filter((s) => s.readyState === WebSocket.OPEN);
  }

  protected onHttp(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(404).end();
  }

  protected acceptUpgrade(_req: IncomingMessage): boolean {
    return true;
  }

  protected abstract onConnection(ws: WebSocket, req: IncomingMessage): void;

  async close(): Promise<void> {
    this.stop();
    for (const socket of this.sockets) socket.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  protected stop(): void {}
}

/**
 * Slack Socket Mode: apps.connections.open hands out a single-use URL; each envelope must be
 * acknowledged within 3 s or it is delivered again; `disconnect` asks for a new connection.
 */
export class SlackSimulator extends Simulator {
  readonly appToken = "xapp-1-test-token";
  readonly opened: string[] = [];
  private readonly tickets = new Set<string>();
  private ticketCount = 0;
  /** envelope_id → when it was sent first, and when its ack came. */
  readonly envelopes = new Map<string, { sentAt: number; ackedAt?: number; deliveries: number }>();
  /** Every ack, with what the relay had in SQS at that moment (checked by the test's hook). */
  readonly acks: Array<{ id: string; at: number }> = [];
  readonly reusedTicketRefused: string[] = [];
  onAck: (id: string) => void = () => undefined;
  private redeliverTimer: NodeJS.Timeout | undefined;

  static async start(): Promise<SlackSimulator> {
    const sim = new SlackSimulator();
    await sim.listen();
    sim.redeliverTimer = setInterval(() => sim.redeliver(), 200);
    return sim;
  }

  get openUrl(): string {
    return `http://${this.origin}/api/apps.connections.open`;
  }

  protected override onHttp(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === "/api/apps.connections.open" && req.method === "POST") {
      if (req.headers.authorization !== `Bearer ${this.appToken}`) {
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":false,"error":"invalid_auth"}');
        return;
      }
      const ticket = `t${++this.ticketCount}`;
      this.tickets.add(ticket);
      this.opened.push(ticket);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, url: `ws://${this.origin}/link/?ticket=${ticket}` }));
      return;
    }
    res.writeHead(404).end();
  }

  protected override acceptUpgrade(req: IncomingMessage): boolean {
    const ticket = new URL(req.url ?? "", "http://x").searchParams.get("ticket") ?? "";
    if (!this.tickets.delete(ticket)) {
      this.reusedTicketRefused.push(ticket);
      return false;
    }
    return true;
  }

  protected onConnection(ws: WebSocket): void {
    ws.send(JSON.stringify({ type: "hello", num_connections: this.open.length }));
    ws.on("message", (data) => {
      const { envelope_id: id } = JSON.parse(data.toString()) as { envelope_id: string };
      const envelope = this.envelopes.get(id);
      if (envelope && envelope.ackedAt === undefined) envelope.ackedAt = Date.now();
      this.acks.push({ id, at: Date.now() });
      this.onAck(id);
    });
  }

  /** Sends an event envelope on the newest open connection. */
  sendEnvelope(id: string): void {
    const socket = this.open.at(-1);
    if (!socket) throw new Error("no open Slack connection");
    this.envelopes.set(id, { sentAt: Date.now(), deliveries: 1 });
    socket.send(JSON.stringify({ envelope_id: id, type: "events_api", accepts_response_payload: false, payload: { event: { type: "message", text: `hello ${id}` } } }));
  }

  /** Asks the relay to reconnect, as Slack does before it closes a connection. */
  sendDisconnect(): void {
    this.open.at(-1)?.send(JSON.stringify({ type: "disconnect", reason: "refresh_requested" }));
  }

  private redeliver(): void {
    const socket = this.open.at(-1);
    if (!socket) return;
    for (const [id, envelope] of this.envelopes) {
      if (envelope.ackedAt === undefined && Date.now() - envelope.sentAt > 3_000 * envelope.deliveries) {
        envelope.deliveries++;
        socket.send(JSON.stringify({ envelope_id: id, type: "events_api", retry_attempt: envelope.deliveries - 1, payload: { event: { type: "message", text: `hello ${id}` } } }));
      }
    }
  }

  protected override stop(): void {
    clearInterval(this.redeliverTimer);
  }
}

/**
 * Bluesky Jetstream: a steady stream of events stamped with time_us; `?cursor=` replays every
 * event from that time on, then continues live.
 */
export class JetstreamSimulator extends Simulator {
  readonly events: Array<{ time_us: number; did: string }> = [];
  readonly cursors: Array<string | null> = [];
  private timer: NodeJS.Timeout | undefined;
  private nextTimeUs = 1_700_000_000_000_000;

  static async start(eventsPerTick = 5, tickMs = 10): Promise<JetstreamSimulator> {
    const sim = new JetstreamSimulator();
    await sim.listen();
    sim.timer = setInterval(() => {
      for (let i = 0; i < eventsPerTick; i++) sim.emit();
    }, tickMs);
    return sim;
  }

  get url(): string {
    return `ws://${this.origin}/subscribe?cursor={{cursor}}`;
  }

  private emit(): void {
    this.nextTimeUs += 1_000 + Math.floor(Math.random() * 100); // ~1 ms apart, like real events
    const event = { time_us: this.nextTimeUs, did: `did:plc:${this.events.length}` };
    this.events.push(event);
    const text = JSON.stringify({ did: event.did, time_us: event.time_us, kind: "commit", commit: { collection: "app.bsky.feed.post" } });
    for (const socket of this.open) socket.send(text);
  }

  protected onConnection(ws: WebSocket, req: IncomingMessage): void {
    const cursor = new URL(req.url ?? "", "http://x").searchParams.get("cursor");
    this.cursors.push(cursor);
    if (cursor === null) return;
    for (const event of this.events) {
      if (event.time_us >= Number(cursor)) ws.send(JSON.stringify({ did: event.did, time_us: event.time_us, kind: "commit", commit: { collection: "app.bsky.feed.post" } }));
    }
  }

  /** Stops producing events (so a test can wait for the queue to settle). */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  protected override stop(): void {
    this.pause();
  }
}

/**
 * Binance user-data stream: a listenKey from REST before connecting (kept alive by PUT), the
 * key in the URL path, a ping about every interval, and a hang-up after a fixed age.
 */
export class BinanceSimulator extends Simulator {
  readonly apiKey = "binance-api-key";
  readonly keysIssued: string[] = [];
  readonly keepAlives: string[] = [];
  readonly pathsConnected: string[] = [];
  private keyCount = 0;
  private eventTimer: NodeJS.Timeout | undefined;
  private eventId = 0;
  readonly eventsSent: number[] = [];

  private constructor(private readonly hangUpAfterMs: number) {
    super();
  }

  static async start(hangUpAfterMs: number): Promise<BinanceSimulator> {
    const sim = new BinanceSimulator(hangUpAfterMs);
    await sim.listen();
    sim.eventTimer = setInterval(() => {
      const id = ++sim.eventId;
      sim.eventsSent.push(id);
      // Every open connection of the account gets the event, as Binance does.
      for (const socket of sim.open) socket.send(JSON.stringify({ e: "executionReport", E: id, s: "BTCUSDT" }));
    }, 5);
    return sim;
  }

  get restUrl(): string {
    return `http://${this.origin}/api/v3/userDataStream`;
  }

  protected override onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "", "http://x");
    if (url.pathname !== "/api/v3/userDataStream" || req.headers["x-mbx-apikey"] !== this.apiKey) {
      res.writeHead(401).end('{"code":-2015,"msg":"Invalid API-key"}');
      return;
    }
    if (req.method === "POST") {
      const key = `lk${++this.keyCount}`;
      this.keysIssued.push(key);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ listenKey: key }));
    } else if (req.method === "PUT") {
      this.keepAlives.push(url.searchParams.get("listenKey") ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } else {
      res.writeHead(405).end();
    }
  }

  protected override acceptUpgrade(req: IncomingMessage): boolean {
    const key = (req.url ?? "").replace(/^\/ws\//, "");
    return this.keysIssued.includes(key);
  }

  protected onConnection(ws: WebSocket, req: IncomingMessage): void {
    this.pathsConnected.push(req.url ?? "");
    const ping = setInterval(() => ws.ping("binance"), 100);
    const hangUp = setTimeout(() => ws.close(1000, "24h"), this.hangUpAfterMs);
    ws.on("close", () => {
      clearInterval(ping);
      clearTimeout(hangUp);
    });
  }

  /** Stops producing events. */
  pause(): void {
    clearInterval(this.eventTimer);
  }

  protected override stop(): void {
    this.pause();
  }
}

/**
 * Coinbase Exchange: hangs up unless a subscribe arrives within the deadline; then heartbeats
 * and tickers with per-product sequence numbers, with a deliberate gap when asked.
 */
export class CoinbaseSimulator extends Simulator {
  readonly subscribes: unknown[] = [];
  private readonly sequences = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  skipNext = new Set<string>();
  readonly tickersSent: string[] = [];
  heartbeatsSent = 0;

  private constructor(
    private readonly subscribeDeadlineMs: number,
    perMessageDeflate: boolean,
  ) {
    super({ perMessageDeflate });
  }

  static async start(options: { subscribeDeadlineMs?: number; perMessageDeflate?: boolean } = {}): Promise<CoinbaseSimulator> {
    const sim = new CoinbaseSimulator(options.subscribeDeadlineMs ?? 5_000, options.perMessageDeflate ?? false);
    await sim.listen();
    return sim;
  }

  get url(): string {
    return `ws://${this.origin}`;
  }

  protected onConnection(ws: WebSocket): void {
    let products: string[] = [];
    const deadline = setTimeout(() => ws.close(1008, "no subscribe"), this.subscribeDeadlineMs);
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; product_ids: string[] };
      if (message.type !== "subscribe") return;
      this.subscribes.push(message);
      clearTimeout(deadline);
      products = message.product_ids;
      ws.send(JSON.stringify({ type: "subscriptions", channels: [{ name: "ticker", product_ids: products }] }));
      this.timer ??= setInterval(() => this.tick(products), 20);
    });
    ws.on("close", () => clearTimeout(deadline));
  }

  private tick(products: string[]): void {
    for (const product of products) {
      let sequence = (this.sequences.get(product) ?? 100) + 1;
      if (this.skipNext.delete(product)) sequence++; // the feed "loses" one message
      this.sequences.set(product, sequence);
      const ticker = JSON.stringify({ type: "ticker", sequence, product_id: product, price: "50000.00" });
      const heartbeat = JSON.stringify({ type: "heartbeat", last_trade_id: sequence, product_id: product, sequence, time: new Date().toISOString() });
      for (const socket of this.open) {
        socket.send(ticker);
        socket.send(heartbeat);
      }
      this.tickersSent.push(ticker);
      this.heartbeatsSent++;
    }
  }

  pause(): void {
    clearInterval(this.timer);
  }

  protected override stop(): void {
    this.pause();
  }
}
