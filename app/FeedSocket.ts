import type { Logger } from "pino";
import WebSocket from "ws";
import { redactUrl } from "./config";

/** A socket's states, as named constants (ws style). */
export const SocketState = Object.freeze({
  CONNECTING: "connecting",
  SUBSCRIBING: "subscribing",
  READY: "ready",
  CLOSING: "closing",
  CLOSED: "closed",
} as const);
export type SocketState = (typeof SocketState)[keyof typeof SocketState];

/** What every connection to the feed is opened and kept alive with. */
export interface SocketSettings {
  readonly headers: Readonly<Record<string, string>>;
  readonly protocols: readonly string[];
  readonly perMessageDeflate: boolean;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** An app-level message sent every intervalMs while open. */
  readonly heartbeat: { readonly message: string; readonly intervalMs: number } | undefined;
}

export interface FeedSocketOptions extends SocketSettings {
  readonly connectionId: string;
  readonly url: string;
  readonly subscribe: readonly string[];
  readonly paused: boolean;
  readonly logger: Logger;
  readonly onFrame: (data: Buffer, isBinary: boolean, connectionId: string) => void;
  readonly onReady: (socket: FeedSocket) => void;
  readonly onClose: (socket: FeedSocket, code: number) => void;
}

/**
 * One WebSocket connection to the feed: opens, sends the subscribe messages, keeps itself alive
 * (protocol pings, an idle deadline, app heartbeats) and reports frames and its close. Runtime
 * failures become one `onClose`, never a throw.
 */
export class FeedSocket {
  readonly connectionId: string;
  readonly openedAtMs = Date.now();
  private readonly ws: WebSocket;
  private stateValue: SocketState = SocketState.CONNECTING;
  private pingTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private activity = true;
  private missedTicks = 0;
  private lastDataAtMs = Date.now();
  private pausedValue: boolean;
  private readonly closed: Promise<void>;

  constructor(private readonly options: FeedSocketOptions) {
    this.connectionId = options.connectionId;
    this.pausedValue = options.paused;
    const { logger, connectionId } = options;
    logger.info({ connectionId, feed: redactUrl(options.url) }, "connecting to feed");
    this.ws = new WebSocket(options.url, [...options.protocols], {
      headers: { ...options.headers },
      handshakeTimeout: 10_000,
      perMessageDeflate: options.perMessageDeflate,
    });
    let resolveClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    const ws = this.ws;

    const onOpen = (): void => {
      this.stateValue = SocketState.SUBSCRIBING;
      logger.info({ connectionId, protocol: ws.protocol || undefined, extensions: ws.extensions || undefined }, "connected");
      if (this.pausedValue) ws.pause();
      this.subscribe();
      this.startLiveness();
    };
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      this.activity = true;
      if (options.idleTimeoutMs > 0) this.lastDataAtMs = Date.now();
      options.onFrame(data, isBinary, connectionId);
    };
    const onAlive = (): void => {
      this.activity = true;
    };
    const onError = (error: Error): void => {
      logger.warn({ connectionId, err: error.message }, "feed connection error");
    };
    const onClose = (code: number, reason: Buffer): void => {
      ws.off("open", onOpen);
      ws.off("message", onMessage);
      ws.off("pong", onAlive);
      ws.off("ping", onAlive);
      ws.off("error", onError);
      ws.off("close", onClose);
      this.stopTimers();
      this.stateValue = SocketState.CLOSED;
      logger.info({ connectionId, code, reason: reason.toString("utf8").slice(0, 200) }, "feed connection closed");
      resolveClosed();
      options.onClose(this, code);
    };
    ws.on("open", onOpen);
    ws.on("message", onMessage);
    ws.on("pong", onAlive);
    ws.on("ping", onAlive);
    ws.on("error", onError);
    ws.on("close", onClose);
  }

  get state(): SocketState {
    return this.stateValue;
  }

  get ready(): boolean {
    return this.stateValue === SocketState.READY;
  }

  /** Sends an app-level message (acks); false when the socket is no longer open. */
  send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  pause(): void {
    this.pausedValue = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.pause();
  }

  resume(): void {
    this.pausedValue = false;
    this.activity = true;
    this.missedTicks = 0;
    this.lastDataAtMs = Date.now();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.resume();
  }

  /**
   * Closes with the code; frames that arrive before the peer completes the close are still
   * delivered; a peer that does not complete it within graceMs is cut off. Safe to call twice.
   */
  close(code: number, reason: string, graceMs: number): Promise<void> {
    if (this.stateValue === SocketState.CLOSED) return Promise.resolve();
    if (this.stateValue !== SocketState.CLOSING) {
      this.stateValue = SocketState.CLOSING;
      this.stopTimers();
      if (this.ws.readyState === WebSocket.CONNECTING) {
        this.ws.terminate();
      } else {
        // Resume so the peer's close frame (and anything before it) can be read.
        this.ws.resume();
        this.ws.close(code, reason);
        setTimeout(() => this.ws.terminate(), graceMs).unref();
      }
    }
    return this.closed;
  }

  /** Drops the connection at once (a dead peer). */
  terminate(): void {
    this.ws.terminate();
  }

  private subscribe(): void {
    const messages = this.options.subscribe;
    if (messages.length === 0) {
      this.becomeReady();
      return;
    }
    messages.forEach((message, index) => {
      this.ws.send(message, (error) => {
        // A failed send is followed by a close, which reconnects and subscribes again.
        if (!error && index === messages.length - 1) this.becomeReady();
      });
    });
  }

  private becomeReady(): void {
    if (this.stateValue !== SocketState.SUBSCRIBING) return;
    this.stateValue = SocketState.READY;
    this.options.logger.info({ connectionId: this.connectionId, messages: this.options.subscribe.length }, "subscribed");
    this.options.onReady(this);
  }

  private startLiveness(): void {
    const { pingIntervalMs, idleTimeoutMs, heartbeat, logger } = this.options;
    const { connectionId, ws } = this;
    // No pong and no frame within two ping periods: the peer is gone, whatever TCP thinks.
    this.pingTimer = setInterval(() => {
      if (this.pausedValue) return;
      if (this.activity) {
        this.missedTicks = 0;
      } else if (++this.missedTicks >= 2) {
        logger.warn({ connectionId, silentForMs: this.missedTicks * pingIntervalMs }, "no pong or frame from the feed; reconnecting");
        ws.terminate();
        return;
      }
      this.activity = false;
      ws.ping();
    }, pingIntervalMs);
    if (idleTimeoutMs > 0) {
      this.lastDataAtMs = Date.now();
      const check = (): void => {
        const idleMs = Date.now() - this.lastDataAtMs;
        if (!this.pausedValue && idleMs >= idleTimeoutMs) {
          logger.warn({ connectionId, idleMs }, "no frame from the feed within the idle timeout; reconnecting");
          ws.terminate();
          return;
        }
        this.idleTimer = setTimeout(check, Math.max(10, Math.min(idleTimeoutMs - idleMs, idleTimeoutMs / 4)));
      };
      this.idleTimer = setTimeout(check, idleTimeoutMs);
    }
    if (heartbeat) {
      this.heartbeatTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(heartbeat.message);
      }, heartbeat.intervalMs);
    }
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.idleTimer);
    clearInterval(this.heartbeatTimer);
    this.pingTimer = this.idleTimer = this.heartbeatTimer = undefined;
  }
}
