import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import WebSocket from "ws";
import { fullJitterDelayMs } from "./backoff";
import { redactUrl } from "./config";

/** Connection states, as named constants (ws style). */
export const FeedState = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  SUBSCRIBING: "subscribing",
  READY: "ready",
  WAITING: "waiting",
  CLOSING: "closing",
  CLOSED: "closed",
} as const);
export type FeedState = (typeof FeedState)[keyof typeof FeedState];

export interface FeedConnectionOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly protocols: readonly string[];
  readonly subscribe: readonly string[];
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** A connection that stays open this long resets the backoff. */
  readonly healthyAfterMs?: number;
  readonly logger: Logger;
  /** Every data frame, in order. Must not throw. */
  readonly onFrame: (data: Buffer, isBinary: boolean, connectionId: string) => void;
  readonly onReconnect?: () => void;
}

/**
 * One logical connection to the feed: connects, subscribes, keeps it alive with pings and an
 * idle deadline, and reconnects with jittered backoff after every close or error. A peer's
 * behaviour never throws out of here; it is logged and leads to a reconnect.
 */
export class FeedConnection {
  private ws: WebSocket | undefined;
  private connectionIdValue = "";
  private stateValue: FeedState = FeedState.IDLE;
  private attempt = 0;
  private connections = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private healthyTimer: NodeJS.Timeout | undefined;
  private activity = false;
  private missedTicks = 0;
  private lastDataAtMs = 0;
  private pausedValue = false;
  private waitingForResume = false;
  private disconnectedSinceMs: number | undefined = Date.now();
  private closeWaiters: Array<() => void> = [];

  constructor(private readonly options: FeedConnectionOptions) {}

  get state(): FeedState {
    return this.stateValue;
  }

  /** Connected and every subscribe message handed to the socket. */
  get ready(): boolean {
    return this.stateValue === FeedState.READY;
  }

  get connectionId(): string {
    return this.connectionIdValue;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** When the last connection was lost (undefined while connected). */
  get disconnectedSince(): number | undefined {
    return this.disconnectedSinceMs;
  }

  start(): void {
    if (this.stateValue !== FeedState.IDLE) return;
    this.connect();
  }

  /** Stops reading the socket (backpressure); liveness checks are suspended meanwhile. */
  pause(): void {
    if (this.pausedValue) return;
    this.pausedValue = true;
    this.ws?.pause();
  }

  resume(): void {
    if (!this.pausedValue) return;
    this.pausedValue = false;
    this.activity = true;
    this.missedTicks = 0;
    this.lastDataAtMs = Date.now();
    this.ws?.resume();
    if (this.waitingForResume) {
      this.waitingForResume = false;
      this.connect();
    }
  }

  /**
   * Closes with 1001 (going away) and stops reconnecting. Frames that arrive before the peer
   * completes the close are still delivered; a peer that does not complete it within graceMs is
   * cut off. Safe to call twice.
   */
  close(graceMs = 1_000): Promise<void> {
    if (this.stateValue === FeedState.CLOSED) return Promise.resolve();
    const wasClosing = this.stateValue === FeedState.CLOSING;
    this.stateValue = FeedState.CLOSING;
    clearTimeout(this.reconnectTimer);
    this.waitingForResume = false;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.finishClose();
      return Promise.resolve();
    }
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (!wasClosing) {
      // Resume so the peer's close frame (and anything before it) can be read.
      this.pausedValue = false;
      ws.resume();
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
      } else {
        ws.close(1001, "relay shutting down");
        const timer = setTimeout(() => ws.terminate(), graceMs);
        timer.unref();
      }
    }
    return closed;
  }

  private finishClose(): void {
    this.stateValue = FeedState.CLOSED;
    this.stopTimers();
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  private connect(): void {
    if (this.stateValue === FeedState.CLOSING || this.stateValue === FeedState.CLOSED) return;
    if (this.pausedValue) {
      // The buffer is full: a new connection could not be read anyway.
      this.waitingForResume = true;
      this.stateValue = FeedState.WAITING;
      return;
    }
    const { url, headers, protocols, logger } = this.options;
    const connectionId = randomUUID();
    this.connectionIdValue = connectionId;
    this.stateValue = FeedState.CONNECTING;
    if (this.connections++ > 0) this.options.onReconnect?.();
    logger.info({ connectionId, feed: redactUrl(url), attempt: this.attempt }, "connecting to feed");
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [...protocols], { headers: { ...headers }, handshakeTimeout: 10_000 });
    } catch (error) {
      logger.error({ connectionId, err: (error as Error).message }, "could not start a connection");
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;

    const onOpen = (): void => {
      this.disconnectedSinceMs = undefined;
      this.stateValue = FeedState.SUBSCRIBING;
      logger.info({ connectionId, protocol: ws.protocol || undefined, extensions: ws.extensions || undefined }, "connected");
      this.subscribe(ws, connectionId);
      this.startLiveness(ws, connectionId);
      this.healthyTimer = setTimeout(() => (this.attempt = 0), this.options.healthyAfterMs ?? 5_000);
    };
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      this.activity = true;
      if (this.options.idleTimeoutMs > 0) this.lastDataAtMs = Date.now();
      this.options.onFrame(data, isBinary, connectionId);
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
      if (this.ws === ws) this.ws = undefined;
      this.disconnectedSinceMs ??= Date.now();
      logger.info({ connectionId, code, reason: reason.toString("utf8").slice(0, 200) }, "feed connection closed");
      if (this.stateValue === FeedState.CLOSING) {
        this.finishClose();
      } else {
        this.scheduleReconnect();
      }
    };
    ws.on("open", onOpen);
    ws.on("message", onMessage);
    ws.on("pong", onAlive);
    ws.on("ping", onAlive);
    ws.on("error", onError);
    ws.on("close", onClose);
  }

  private subscribe(ws: WebSocket, connectionId: string): void {
    const messages = this.options.subscribe;
    if (messages.length === 0) {
      this.stateValue = FeedState.READY;
      return;
    }
    messages.forEach((message, index) => {
      ws.send(message, (error) => {
        if (error) return; // the close that follows reconnects and subscribes again
        if (index === messages.length - 1 && this.ws === ws && this.stateValue === FeedState.SUBSCRIBING) {
          this.stateValue = FeedState.READY;
          this.options.logger.info({ connectionId, messages: messages.length }, "subscribed");
        }
      });
    });
  }

  private startLiveness(ws: WebSocket, connectionId: string): void {
    const { pingIntervalMs, idleTimeoutMs, logger } = this.options;
    this.activity = true;
    this.missedTicks = 0;
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
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.healthyTimer);
    this.pingTimer = this.idleTimer = this.healthyTimer = undefined;
  }

  private scheduleReconnect(): void {
    this.stateValue = FeedState.WAITING;
    const delayMs = fullJitterDelayMs(this.attempt++, this.options.reconnectMinMs, this.options.reconnectMaxMs);
    this.options.logger.info({ delayMs, attempt: this.attempt }, "reconnecting after backoff");
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }
}
