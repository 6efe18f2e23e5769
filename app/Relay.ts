import type { Logger } from "pino";
import type { RelayConfig } from "./config";
import { FeedConnection } from "./FeedConnection";
import { type FrameRecord, frameToRecord, SQS_MAX_MESSAGE_BYTES } from "./frameRecord";
import { RelayMetrics } from "./RelayMetrics";
import { type BatchSender, SqsForwarder } from "./SqsForwarder";

export interface RelayDependencies {
  readonly sqs: BatchSender;
  readonly logger: Logger;
  /** Process-level metrics (event loop, memory) are on unless a test turns them off. */
  readonly defaultMetrics?: boolean;
  /** Called with what SQS accepted; later features (acks, cursors) hang off this. */
  readonly onAccepted?: (records: readonly FrameRecord[]) => void;
}

export interface ShutdownResult {
  /** Frames received but not in SQS when the deadline passed. */
  readonly undelivered: number;
}

/** The relay: one feed connection feeding one SQS forwarder, with backpressure between them. */
export class Relay {
  readonly metrics: RelayMetrics;
  private readonly feed: FeedConnection;
  private readonly forwarder: SqsForwarder;
  private seq = 0;
  private shuttingDown: Promise<ShutdownResult> | undefined;

  constructor(
    private readonly config: RelayConfig,
    private readonly deps: RelayDependencies,
  ) {
    const { logger } = deps;
    this.metrics = new RelayMetrics(
      {
        connected: () => this.feed.ready,
        bufferBytes: () => this.forwarder.bufferedBytes,
        inFlightCalls: () => this.forwarder.inFlightCalls,
        paused: () => this.feed.paused,
      },
      { defaultMetrics: deps.defaultMetrics },
    );
    this.forwarder = new SqsForwarder({
      client: deps.sqs,
      queueUrl: config.queueUrl,
      fifo: config.fifo,
      maxInFlight: config.maxInFlight,
      maxBufferBytes: config.maxBufferBytes,
      sqsTimeoutMs: config.sqsTimeoutMs,
      logger,
      metrics: this.metrics,
      onAccepted: deps.onAccepted,
    });
    this.forwarder.onDrain(() => {
      logger.info({ bufferBytes: this.forwarder.bufferedBytes }, "buffer drained; reading the feed again");
      this.feed.resume();
    });
    this.feed = new FeedConnection({
      url: config.url,
      headers: config.headers,
      protocols: config.protocols,
      subscribe: config.subscribe,
      pingIntervalMs: config.pingIntervalMs,
      idleTimeoutMs: config.idleTimeoutMs,
      reconnectMinMs: config.reconnectMinMs,
      reconnectMaxMs: config.reconnectMaxMs,
      logger,
      onFrame: (data, isBinary, connectionId) => this.onFrame(data, isBinary, connectionId),
      onReconnect: () => this.metrics.reconnects.inc(),
    });
  }

  /** Connected to the feed and subscribed. */
  get ready(): boolean {
    return this.feed.ready;
  }

  get disconnectedSince(): number | undefined {
    return this.feed.disconnectedSince;
  }

  get bufferedBytes(): number {
    return this.forwarder.bufferedBytes;
  }

  start(): void {
    this.deps.logger.info(
      { queueUrl: this.config.queueUrl, fifo: this.config.fifo, subscribeMessages: this.config.subscribe.length, maxBufferBytes: this.config.maxBufferBytes },
      "relay starting",
    );
    this.feed.start();
  }

  /**
   * Closes the feed with 1001, then flushes what is buffered until the deadline. Runs once;
   * later calls get the same result.
   */
  shutdown(deadlineAtMs: number): Promise<ShutdownResult> {
    this.shuttingDown ??= this.runShutdown(deadlineAtMs);
    return this.shuttingDown;
  }

  private async runShutdown(deadlineAtMs: number): Promise<ShutdownResult> {
    const { logger } = this.deps;
    logger.info({ bufferBytes: this.forwarder.bufferedBytes, pending: this.forwarder.pendingCount }, "shutting down: closing the feed, then flushing");
    await this.feed.close(Math.min(1_000, Math.max(0, deadlineAtMs - Date.now())));
    const undelivered = await this.forwarder.flush(deadlineAtMs);
    this.forwarder.close();
    if (undelivered > 0) {
      this.metrics.drop("shutdown", undelivered);
      logger.error({ undelivered, bufferBytes: this.forwarder.bufferedBytes }, "shutdown deadline passed with frames not delivered to SQS");
    } else {
      logger.info("shutdown complete: every frame received is in SQS");
    }
    return { undelivered };
  }

  private onFrame(data: Buffer, isBinary: boolean, connectionId: string): void {
    const seq = ++this.seq;
    (isBinary ? this.metrics.framesBinary : this.metrics.framesText).inc();
    const outcome = frameToRecord(data, isBinary, {
      receivedAtMs: Date.now(),
      seq,
      connectionId,
      fifo: this.config.fifo,
      messageGroupId: this.config.messageGroupId,
      dedupId: this.config.dedupId,
    });
    if (outcome.kind === "empty") {
      this.metrics.drop("empty");
      this.deps.logger.debug({ seq, connectionId }, "empty frame skipped");
      return;
    }
    if (outcome.kind === "too_large") {
      this.metrics.drop("too_large");
      this.deps.logger.warn(
        { seq, connectionId, sizeBytes: outcome.sizeBytes, limitBytes: SQS_MAX_MESSAGE_BYTES },
        `frame of ${outcome.sizeBytes} bytes exceeds the SQS limit of ${SQS_MAX_MESSAGE_BYTES} bytes; dropped`,
      );
      return;
    }
    if (this.deps.logger.isLevelEnabled("debug")) this.deps.logger.debug({ seq, connectionId, body: outcome.record.body }, "frame");
    if (!this.forwarder.push(outcome.record) && !this.feed.paused) {
      this.metrics.backpressurePauses.inc();
      this.deps.logger.warn({ bufferBytes: this.forwarder.bufferedBytes, maxBufferBytes: this.config.maxBufferBytes }, "buffer full; pausing the feed until SQS catches up");
      this.feed.pause();
    }
  }
}
