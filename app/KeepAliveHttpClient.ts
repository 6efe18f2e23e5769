import net from "node:net";
import tls from "node:tls";

/** Where requests go: `http:` or `https:`, a host and a port. */
export interface HttpOrigin {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
}

export interface HttpAnswer {
  readonly statusCode: number;
  readonly body: string;
}

export interface KeepAliveHttpClientOptions {
  /** Sockets open at once per origin; requests beyond it wait for a free one. */
  readonly maxSockets: number;
  /** An idle keep-alive socket is closed after this long. */
  readonly idleTimeoutMs?: number;
  /** A response larger than this fails its request (and closes the socket). */
  readonly maxResponseBytes?: number;
  /** Extra options for https: origins (a private CA, say); the server name is always checked. */
  readonly tls?: Pick<tls.ConnectionOptions, "ca" | "minVersion">;
}

/** No complete answer within the request's deadline (named like the DOMException fetch uses). */
export class HttpTimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** The server's answer broke HTTP/1.1 framing, or was larger than allowed. */
export class HttpProtocolError extends Error {
  override readonly name = "HttpProtocolError";
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A small HTTP/1.1 client for one kind of call: a POST with a string body and a short text
 * answer, on keep-alive sockets, one request per socket at a time.
 *
 * Why not node:http or undici: in the relay's burst benchmark each SendMessageBatch call cost
 * ~110 µs of CPU through node:http (agent, ClientRequest/IncomingMessage streams, listeners) and
 * ~85 µs through undici's Pool; this writes the request in one socket write and parses the
 * answer in place, for ~30 µs. It speaks what SQS needs and nothing more: Content-Length or
 * chunked answers (or an answer ended by close), interim 1xx answers skipped, `Connection: close`
 * honoured. Anything it does not understand fails the request and closes the socket.
 */
export class KeepAliveHttpClient {
  private readonly pools = new Map<string, OriginPool>();
  private readonly idleTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private destroyed = false;

  constructor(private readonly options: KeepAliveHttpClientOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  }

  /**
   * POSTs `body` to `path` with `headers` (names as given; Content-Length is the caller's) and
   * resolves with the status and the body as UTF-8 text, whatever the status. Rejects on a
   * socket error, a broken answer, or with HttpTimeoutError when the whole exchange (waiting for
   * a socket, connecting, the answer) has taken `timeoutMs`; the socket is then closed.
   *
   * A deadline in milliseconds rather than an AbortSignal: an AbortController and its listeners
   * per call were ~0.7 µs per event in the burst benchmark; this is one timer.
   */
  post(origin: HttpOrigin, path: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<HttpAnswer> {
    if (this.destroyed) return Promise.reject(new Error("the HTTP client has been destroyed"));
    let head = `POST ${path} HTTP/1.1\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const key = `${origin.protocol}//${origin.hostname}:${origin.port}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new OriginPool(origin, this.options.maxSockets, this.idleTimeoutMs, this.maxResponseBytes, this.options.tls ?? {});
      this.pools.set(key, pool);
    }
    return pool.request(`${head}\r\n${body}`, timeoutMs);
  }

  /** Closes every socket; requests in flight fail. */
  destroy(): void {
    this.destroyed = true;
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }
}

/** One request, from post() until it settles. */
interface Exchange {
  readonly message: string;
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** Set once the request has a socket. */
  connection: Connection | undefined;
}

class OriginPool {
  private readonly idle: Connection[] = [];
  /** Every open connection, idle or busy: its size is what maxSockets limits, and destroy() closes them all. */
  private readonly connections = new Set<Connection>();
  private readonly waiting: Exchange[] = [];
  private destroyed = false;

  constructor(
    private readonly origin: HttpOrigin,
    private readonly maxSockets: number,
    private readonly idleTimeoutMs: number,
    private readonly maxResponseBytes: number,
    private readonly tlsOptions: tls.ConnectionOptions,
  ) {}

  request(message: string, timeoutMs: number): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const exchange: Exchange = { message, resolve, reject, timer: undefined, connection: undefined };
      exchange.timer = setTimeout(() => this.timeOut(exchange, timeoutMs), timeoutMs);
      // Every socket busy: wait for one (see onFree and onClosed).
      if (this.idle.length > 0 || this.connections.size < this.maxSockets) this.start(exchange);
      else this.waiting.push(exchange);
    });
  }

  destroy(): void {
    this.destroyed = true;
    const error = new Error("the HTTP client has been destroyed");
    for (const connection of this.connections) connection.destroy(error);
    for (const exchange of this.waiting.splice(0)) settle(exchange, error);
  }

  private start(exchange: Exchange): void {
    let connection = this.idle.pop();
    while (connection && !connection.usable) connection = this.idle.pop();
    try {
      connection ??= this.connect();
    } catch (error) {
      settle(exchange, error as Error); // net.connect throws on a bad port, say
      return;
    }
    connection.send(exchange);
  }

  private timeOut(exchange: Exchange, timeoutMs: number): void {
    exchange.timer = undefined;
    const error = new HttpTimeoutError(`no answer within ${timeoutMs} ms`);
    if (exchange.connection) {
      exchange.connection.fail(error);
      return;
    }
    const index = this.waiting.indexOf(exchange);
    if (index >= 0) this.waiting.splice(index, 1);
    settle(exchange, error);
  }

  private connect(): Connection {
    const port = Number(this.origin.port) || (this.origin.protocol === "https:" ? 443 : 80);
    const host = this.origin.hostname.replace(/^\[|\]$/g, "");
    const socket =
      this.origin.protocol === "https:"
        ? tls.connect({ ...this.tlsOptions, host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"] })
        : net.connect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const connection = new Connection(socket, this.maxResponseBytes, this.idleTimeoutMs, {
      free: (connection) => this.onFree(connection),
      closed: (connection) => this.onClosed(connection),
    });
    this.connections.add(connection);
    return connection;
  }

  private onFree(connection: Connection): void {
    const waiter = this.waiting.shift();
    if (waiter) {
      this.idle.push(connection);
      this.start(waiter);
      return;
    }
    if (this.destroyed) connection.destroy();
    else this.idle.push(connection);
  }

  private onClosed(connection: Connection): void {
    this.connections.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    // A socket slot is free again: a waiting request may now open one.
    if (!this.destroyed && this.waiting.length > 0 && this.connections.size < this.maxSockets) this.start(this.waiting.shift()!);
  }
}

/** How the answer's body is delimited. */
type BodyFraming = { readonly kind: "length"; readonly length: number } | { readonly kind: "chunked" } | { readonly kind: "close" };

class Connection {
  private exchange: Exchange | undefined;
  /** Received bytes of the current answer not yet consumed. */
  private received: Buffer | undefined;
  private statusCode = 0;
  private framing: BodyFraming | undefined;
  private keepAlive = true;
  private socketError: Error | undefined;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly maxResponseBytes: number,
    private readonly idleTimeoutMs: number,
    private readonly pool: { free(connection: Connection): void; closed(connection: Connection): void },
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error: Error) => (this.socketError ??= error));
    socket.on("timeout", () => {
      if (!this.exchange) socket.destroy();
    });
    socket.on("close", () => this.onClose());
  }

  send(exchange: Exchange): void {
    if (this.closed) {
      settle(exchange, this.socketError ?? new Error("socket closed"));
      return;
    }
    exchange.connection = this;
    this.exchange = exchange;
    this.socket.setTimeout(0);
    this.socket.write(exchange.message);
  }

  /** Ends the exchange in flight with `error` (its deadline passed) and closes the socket. */
  fail(error: Error): void {
    this.socketError = error;
    this.socket.destroy(error);
  }

  /** False once the socket is closing (the pool may not have heard of it yet). */
  get usable(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
  }

  private onData(chunk: Buffer): void {
    if (!this.exchange) {
      // Nothing was asked: a server talking out of turn cannot be trusted with the next request.
      this.socket.destroy();
      return;
    }
    this.received = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    try {
      this.parse();
    } catch (error) {
      this.socket.destroy(error as Error);
    }
  }

  private parse(): void {
    for (;;) {
      const received = this.received;
      if (!received) return;
      if (!this.framing) {
        const headEnd = received.indexOf(HEAD_END);
        if (headEnd < 0) {
          if (received.length > MAX_HEAD_BYTES) throw new HttpProtocolError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
          return;
        }
        const interim = this.parseHead(received.toString("latin1", 0, headEnd));
        this.received = received.length > headEnd + 4 ? received.subarray(headEnd + 4) : undefined;
        if (interim) continue; // 1xx: the real answer follows
      }
      const bodyAndRest = this.received ?? Buffer.alloc(0);
      if (bodyAndRest.length > this.maxResponseBytes + 1024) throw new HttpProtocolError(`response larger than ${this.maxResponseBytes} bytes`);
      const framing = this.framing!;
      if (framing.kind === "length") {
        // The announced length is exact (the check above leaves room for chunk framing): fail before buffering it.
        if (framing.length > this.maxResponseBytes) throw new HttpProtocolError(`response larger than ${this.maxResponseBytes} bytes`);
        if (bodyAndRest.length < framing.length) return;
        if (bodyAndRest.length > framing.length) this.keepAlive = false; // bytes nobody asked for
        this.complete(bodyAndRest.toString("utf8", 0, framing.length));
      } else if (framing.kind === "chunked") {
        const body = decodeChunked(bodyAndRest);
        if (body === undefined) return;
        if (body.rest > 0) this.keepAlive = false;
        this.complete(body.text);
      }
      // "close": the body is whatever arrives until the server closes (see onClose).
      return;
    }
  }

  /** Parses a response head; returns true for an interim (1xx) answer. */
  private parseHead(head: string): boolean {
    const lines = head.split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
    if (!status) throw new HttpProtocolError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
    const statusCode = Number(status[2]);
    if (statusCode >= 100 && statusCode < 200) return true;
    let contentLength: number | undefined;
    let chunked = false;
    let connectionClose = status[1] === "0";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpProtocolError("malformed response header line");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) throw new HttpProtocolError("invalid Content-Length");
        contentLength = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = value.toLowerCase().split(",").pop()!.trim() === "chunked";
        if (!chunked) throw new HttpProtocolError(`unsupported Transfer-Encoding: ${value}`);
      } else if (name === "connection") {
        const tokens = value.toLowerCase().split(",").map((token) => token.trim());
        if (tokens.includes("close")) connectionClose = true;
        else if (tokens.includes("keep-alive")) connectionClose = false;
      }
    }
    this.statusCode = statusCode;
    this.keepAlive = !connectionClose;
    if (chunked) this.framing = { kind: "chunked" };
    else if (contentLength !== undefined) this.framing = { kind: "length", length: contentLength };
    else if (statusCode === 204 || statusCode === 304) this.framing = { kind: "length", length: 0 };
    else {
      this.framing = { kind: "close" };
      this.keepAlive = false;
    }
    return false;
  }

  private complete(text: string): void {
    const exchange = this.exchange!;
    const answer: HttpAnswer = { statusCode: this.statusCode, body: text };
    this.resetAnswer();
    if (this.keepAlive) {
      this.socket.setTimeout(this.idleTimeoutMs);
      this.pool.free(this);
    } else {
      this.socket.destroy();
    }
    settle(exchange, undefined, answer);
  }

  private resetAnswer(): void {
    this.exchange = undefined;
    this.received = undefined;
    this.framing = undefined;
    this.statusCode = 0;
  }

  private onClose(): void {
    this.closed = true;
    const exchange = this.exchange;
    if (exchange) {
      if (this.framing?.kind === "close" && !this.socketError) {
        const answer: HttpAnswer = { statusCode: this.statusCode, body: this.received?.toString("utf8") ?? "" };
        this.resetAnswer();
        settle(exchange, undefined, answer);
      } else {
        this.resetAnswer();
        settle(exchange, this.socketError ?? new Error("the server closed the connection before its answer was complete"));
      }
    }
    this.pool.closed(this);
  }
}

/** Ends an exchange once: its deadline timer cleared, then resolved or rejected. */
function settle(exchange: Exchange, error: Error | undefined, answer?: HttpAnswer): void {
  clearTimeout(exchange.timer);
  exchange.timer = undefined;
  if (error) exchange.reject(error);
  else exchange.resolve(answer!);
}

/** Decodes a complete chunked body; undefined while more bytes are needed. */
function decodeChunked(data: Buffer): { text: string; rest: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) {
      if (data.length - at > 1024) throw new HttpProtocolError("chunk size line too long");
      return undefined;
    }
    const sizeText = data.toString("latin1", at, lineEnd).split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new HttpProtocolError("invalid chunk size");
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers (ignored), ended by an empty line.
      if (data.length >= at + 2 && data[at] === 0x0d && data[at + 1] === 0x0a) return { text: Buffer.concat(parts).toString("utf8"), rest: data.length - at - 2 };
      const end = data.indexOf(HEAD_END, at);
      if (end < 0) return undefined;
      return { text: Buffer.concat(parts).toString("utf8"), rest: data.length - end - 4 };
    }
    if (data.length < at + size + 2) return undefined;
    if (data[at + size] !== 0x0d || data[at + size + 1] !== 0x0a) throw new HttpProtocolError("chunk not followed by CRLF");
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}
