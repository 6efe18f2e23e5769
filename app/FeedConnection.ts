import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { fullJitterDelayMs } from "./backoff";
import { FeedSocket, type SocketSettings } from "./FeedSocket";

/** Where and how to connect, worked out again before every connect (fresh URL, token, cursor). */
export interface ConnectTarget {
  readonly url: string;
  readonly subscribe: readonly string[];
}

export interface FeedConnectionOptions {
  /** Runs before every connect; a rejection is logged and retried with backoff. */
  readonly prepare: () => Promise<ConnectTarget>;
  readonly socket: SocketSettings;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Planned rotation: a connection older than this is replaced, make-before-break (0 = off). */
  readonly maxConnectionAgeMs: number;
  /** A connection that stays open this long resets the backoff. */
  readonly healthyAfterMs?: number;
  readonly logger: Logger;
  /** Every data frame, in order per connection. Must not throw. */
  readonly onFrame: (data: Buffer, isBinary: boolean, connectionId: string) => void;
  readonly onReconnect?: () => void;
  readonly onRotate?: () => void;
}

/**
 * The relay's logical connection to the feed. It reconnects with jittered backoff after every
 * close or error, and rotates make-before-break: the next connection is opened and subscribed
 * before the old one is closed, so nothing falls into a gap. A peer's behaviour never throws
 * out of here.
 */
export class FeedConnection {
  private current: FeedSocket | undefined;
  private next: FeedSocket | undefined;
  private readonly sockets = new Map<string, FeedSocket>();
  private preparing = false;
  private closing = false;
  private started = false;
  private everConnected = false;
  private attempt = 0;
  private rotationAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private rotationTimer: NodeJS.Timeout | undefined;
  private healthyTimer: NodeJS.Timeout | undefined;
  private pausedValue = false;
  private waitingForResume = false;
  private disconnectedSinceMs: number | undefined = Date.now();
  private closeWaiters: Array<() => void> = [];

  constructor(private readonly options: FeedConnectionOptions) {}

  /** Connected and every subscribe message handed to the socket. */
  get ready(): boolean {
    return this.current?.ready ?? false;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** When the last connection was lost (undefined while connected). */
  get disconnectedSince(): number | undefined {
    return this.disconnectedSinceMs;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect("current");
  }

  /**
   * Sends an app-level message on the connection a frame came from or, when that one has
   * closed, on the current one; false when neither is open.
   */
  send(connectionId: string, text: string): boolean {
    return this.sockets.get(connectionId)?.send(text) || (this.current?.send(text) ?? false);
  }

  /** Opens a new connection and closes the current one once the new one is subscribed. */
  rotate(reason: string): void {
    if (this.closing || this.next || this.preparing || !this.current) return;
    this.options.logger.info({ reason, connectionId: this.current.connectionId }, "rotating the feed connection (make-before-break)");
    clearTimeout(this.rotationTimer);
    void this.connect("next");
  }

  /** Stops reading every socket (backpressure); liveness checks are suspended meanwhile. */
  pause(): void {
    if (this.pausedValue) return;
    this.pausedValue = true;
    for (const socket of this.sockets.values()) socket.pause();
  }

  resume(): void {
    if (!this.pausedValue) return;
    this.pausedValue = false;
    for (const socket of this.sockets.values()) socket.resume();
    if (this.waitingForResume) {
      this.waitingForResume = false;
      void this.connect("current");
    }
  }

  /** Closes every connection with 1001 and stops reconnecting. Safe to call twice. */
  close(graceMs = 1_000): Promise<void> {
    this.closing = true;
    this.waitingForResume = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.rotationTimer);
    clearTimeout(this.healthyTimer);
    if (this.sockets.size === 0 && !this.preparing) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    for (const socket of this.sockets.values()) void socket.close(1001, "relay shutting down", graceMs);
    return closed;
  }

  private async connect(role: "current" | "next"): Promise<void> {
    if (this.closing) return;
    if (this.pausedValue && role === "current") {
      // The buffer is full: a new connection could not be read anyway.
      this.waitingForResume = true;
      return;
    }
    this.preparing = true;
    let target: ConnectTarget | undefined;
    let failure: Error | undefined;
    try {
      target = await this.options.prepare();
    } catch (error) {
      failure = error as Error;
    }
    this.preparing = false;
    if (this.closing) {
      this.settleClose();
      return;
    }
    if (!target) {
      this.options.logger.warn({ err: failure?.message }, "could not prepare the connection");
      this.afterFailedStart(role);
      return;
    }
    const connectionId = randomUUID();
    let socket: FeedSocket;
    try {
      socket = new FeedSocket({
        ...this.options.socket,
        connectionId,
        url: target.url,
        subscribe: target.subscribe,
        paused: this.pausedValue,
        logger: this.options.logger,
        onFrame: this.options.onFrame,
        onReady: (s) => this.onReady(s),
        onClose: (s) => this.onClose(s),
      });
    } catch (error) {
      this.options.logger.warn({ connectionId, err: (error as Error).message }, "could not start a connection");
      this.afterFailedStart(role);
      return;
    }
    this.sockets.set(connectionId, socket);
    if (role === "next") {
      this.next = socket;
    } else {
      if (this.everConnected) this.options.onReconnect?.();
      this.everConnected = true;
      this.current = socket;
    }
  }

  private afterFailedStart(role: "current" | "next"): void {
    if (role === "next") this.scheduleRotation(this.rotationRetryDelay());
    else this.scheduleReconnect();
  }

  private onReady(socket: FeedSocket): void {
    if (socket === this.next) {
      const old = this.current;
      this.current = socket;
      this.next = undefined;
      this.rotationAttempt = 0;
      this.options.onRotate?.();
      this.options.logger.info({ connectionId: socket.connectionId, replaced: old?.connectionId }, "rotated: new connection subscribed, closing the old one");
      void old?.close(1000, "rotated", 5_000);
    }
    if (socket !== this.current) return;
    this.disconnectedSinceMs = undefined;
    clearTimeout(this.healthyTimer);
    this.healthyTimer = setTimeout(() => (this.attempt = 0), this.options.healthyAfterMs ?? 5_000);
    if (this.options.maxConnectionAgeMs > 0) this.scheduleRotation(this.options.maxConnectionAgeMs);
  }

  private onClose(socket: FeedSocket): void {
    this.sockets.delete(socket.connectionId);
    if (socket === this.next) {
      this.next = undefined;
      if (!this.closing) {
        this.options.logger.warn({ connectionId: socket.connectionId }, "the replacement connection closed before it was subscribed; retrying the rotation");
        this.scheduleRotation(this.rotationRetryDelay());
      }
    } else if (socket === this.current) {
      this.current = undefined;
      clearTimeout(this.rotationTimer);
      clearTimeout(this.healthyTimer);
      this.disconnectedSinceMs ??= Date.now();
      if (this.next) {
        // A rotation was under way: its connection takes over as soon as it is subscribed.
        this.current = this.next;
        this.next = undefined;
      } else if (!this.closing && !this.preparing) {
        this.scheduleReconnect();
      }
    }
    if (this.closing) this.settleClose();
  }

  private settleClose(): void {
    if (this.sockets.size > 0 || this.preparing) return;
    clearTimeout(this.healthyTimer);
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  private rotationRetryDelay(): number {
    return fullJitterDelayMs(this.rotationAttempt++, this.options.reconnectMinMs, this.options.reconnectMaxMs);
  }

  private scheduleRotation(delayMs: number): void {
    clearTimeout(this.rotationTimer);
    if (this.closing) return;
    this.rotationTimer = setTimeout(() => this.rotate("maximum connection age"), delayMs);
  }

  private scheduleReconnect(): void {
    if (this.closing) return;
    clearTimeout(this.reconnectTimer);
    const delayMs = fullJitterDelayMs(this.attempt++, this.options.reconnectMinMs, this.options.reconnectMaxMs);
    this.options.logger.info({ delayMs, attempt: this.attempt }, "reconnecting after backoff");
    this.reconnectTimer = setTimeout(() => void this.connect("current"), delayMs);
  }
}
