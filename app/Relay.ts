import type { Logger } from "pino";
import type { RelayConfig } from "./config";
import { type CursorStore, CursorTracker } from "./CursorTracker";
import { DedupWindow } from "./DedupWindow";
import { type ConnectTarget, FeedConnection } from "./FeedConnection";
import { fetchValue } from "./fetchValue";
import { type FrameRecord, frameToRecord, SQS_MAX_MESSAGE_BYTES } from "./frameRecord";
import { RelayMetrics } from "./RelayMetrics";
import { SequenceGapDetector } from "./SequenceGapDetector";
import { type BatchSender, SqsForwarder } from "./SqsForwarder";
import { renderJsonText, renderText, renderUrl } from "./template";

export interface RelayDependencies {
  readonly sqs: BatchSender;
  readonly logger: Logger;
  /** Where the resume cursor is kept between runs (required when a cursor pointer is set). */
  readonly cursorStore?: CursorStore;
  /** Process-level metrics (event loop, memory) are on unless a test turns them off. */
  readonly defaultMetrics?: boolean;
}

export interface ShutdownResult {
  /** Frames received but not in SQS when the deadline passed. */
  readonly undelivered: number;
}

/** How long the HTTP step before a connect may take. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * The relay: one logical feed connection feeding one SQS forwarder, with backpressure between
 * them, and the feed lifecycle around it (fresh URL or token per connect, acks after SQS,
 * resume cursors, rotation, gap detection, heartbeats).
 */
export class Relay {
  readonly metrics: RelayMetrics;
  private readonly feed: FeedConnection;
  private readonly forwarder: SqsForwarder;
  private readonly cursor: CursorTracker | undefined;
  private readonly dedup: DedupWindow | undefined;
  /** Ack ids already sent, so a redelivered duplicate can be acked again at once. */
  private readonly acked: DedupWindow | undefined;
  private readonly gaps: SequenceGapDetector | undefined;
  private readonly needsJson: boolean;
  private seq = 0;
  private token: string | undefined;
  /** The cursor saved by the previous run: frames at or before it were delivered then. */
  private restartCursor: bigint | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private cursorSaveTimer: NodeJS.Timeout | undefined;
  private cursorSaving: Promise<void> = Promise.resolve();
  private shuttingDown: Promise<ShutdownResult> | undefined;

  constructor(
    private readonly config: RelayConfig,
    private readonly deps: RelayDependencies,
  ) {
    const { logger } = deps;
    if (config.cursor && !deps.cursorStore) throw new Error("a cursor pointer is set but no cursor store was given");
    this.metrics = new RelayMetrics(
      {
        connected: () => this.feed.ready,
        bufferBytes: () => this.forwarder.bufferedBytes,
        inFlightCalls: () => this.forwarder.inFlightCalls,
        paused: () => this.feed.paused,
      },
      { defaultMetrics: deps.defaultMetrics },
    );
    this.cursor = config.cursor ? new CursorTracker(undefined) : undefined;
    this.dedup = config.dedup ? new DedupWindow(config.dedup.windowSize) : undefined;
    this.gaps = config.sequence ? new SequenceGapDetector() : undefined;
    this.acked = config.ack ? new DedupWindow(config.dedup?.windowSize ?? 50_000) : undefined;
    this.needsJson = Boolean(config.ack || config.cursor || config.dedup || config.sequence || config.messageGroupId?.kind === "pointer" || config.dedupId?.kind === "pointer");
    this.forwarder = new SqsForwarder({
      client: deps.sqs,
      queueUrl: config.queueUrl,
      fifo: config.fifo,
      maxInFlight: config.maxInFlight,
      maxBufferBytes: config.maxBufferBytes,
      sqsTimeoutMs: config.sqsTimeoutMs,
      logger,
      metrics: this.metrics,
      onAccepted: (records) => this.onAccepted(records),
      onRefused: (record) => this.cursor?.settle(record.seq),
    });
    this.forwarder.onDrain(() => {
      logger.info({ bufferBytes: this.forwarder.bufferedBytes }, "buffer drained; reading the feed again");
      this.feed.resume();
    });
    this.feed = new FeedConnection({
      prepare: () => this.prepare(),
      socket: config,
      reconnectMinMs: config.reconnectMinMs,
      reconnectMaxMs: config.reconnectMaxMs,
      maxConnectionAgeMs: config.maxConnectionAgeMs,
      logger,
      onFrame: (data, isBinary, connectionId) => this.onFrame(data, isBinary, connectionId),
      onReconnect: () => this.metrics.reconnects.inc(),
      onRotate: () => this.metrics.rotations.inc(),
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

  /** The resume cursor: everything up to it is in SQS. */
  get resumeCursor(): string | undefined {
    return this.cursor?.cursor;
  }

  /** Loads the saved cursor (if any), then connects. */
  async start(): Promise<void> {
    const { logger, cursorStore } = this.deps;
    logger.info(
      { queueUrl: this.config.queueUrl, fifo: this.config.fifo, preset: this.config.preset, subscribeMessages: this.config.subscribe.length, maxBufferBytes: this.config.maxBufferBytes },
      "relay starting",
    );
    if (this.cursor && cursorStore) {
      try {
        const saved = await cursorStore.load();
        if (saved !== undefined) {
          this.cursor.track(0, saved);
          this.cursor.settle(0);
          this.cursor.takeChanged();
          this.restartCursor = /^-?\d+$/.test(saved) ? BigInt(saved) : undefined;
        }
        logger.info({ cursor: saved, store: cursorStore.description }, saved === undefined ? "no saved cursor: starting live" : "resuming from the saved cursor");
      } catch (error) {
        logger.error({ err: (error as Error).message, store: cursorStore.description }, "could not load the saved cursor: starting live");
      }
      this.cursorSaveTimer = setInterval(() => void this.saveCursor(), this.config.cursor!.saveIntervalMs);
    }
    this.feed.start();
  }

  /**
   * Closes the feed with 1001, flushes what is buffered until the deadline, then saves the
   * cursor. Runs once; later calls get the same result.
   */
  shutdown(deadlineAtMs: number): Promise<ShutdownResult> {
    this.shuttingDown ??= this.runShutdown(deadlineAtMs);
    return this.shuttingDown;
  }

  private async runShutdown(deadlineAtMs: number): Promise<ShutdownResult> {
    const { logger } = this.deps;
    logger.info({ bufferBytes: this.forwarder.bufferedBytes, pending: this.forwarder.pendingCount }, "shutting down: closing the feed, then flushing");
    clearInterval(this.keepAliveTimer);
    await this.feed.close(Math.min(1_000, Math.max(0, deadlineAtMs - Date.now())));
    const undelivered = await this.forwarder.flush(deadlineAtMs);
    this.forwarder.close();
    clearInterval(this.cursorSaveTimer);
    await this.saveCursor();
    if (undelivered > 0) {
      this.metrics.drop("shutdown", undelivered);
      logger.error({ undelivered, bufferBytes: this.forwarder.bufferedBytes }, "shutdown deadline passed with frames not delivered to SQS");
    } else {
      logger.info("shutdown complete: every frame received is in SQS");
    }
    return { undelivered };
  }

  /** Before every connect: fetch a fresh URL or token, then fill the templates. */
  private async prepare(): Promise<ConnectTarget> {
    const { fetch } = this.config;
    let fetchedUrl: string | undefined;
    if (fetch) {
      let value: string | undefined;
      try {
        value = await fetchValue({ ...fetch, timeoutMs: FETCH_TIMEOUT_MS });
      } catch (error) {
        this.metrics.fetchFailures.inc();
        throw error;
      }
      if (fetch.as === "url") {
        if (!/^wss?:\/\//.test(value ?? "")) throw new Error(`the fetched value at ${fetch.pointer.text} is not a ws:// or wss:// URL`);
        fetchedUrl = value;
      } else {
        this.token = value;
        this.startKeepAlive();
      }
    }
    const values = { token: this.token, cursor: this.resumeFrom() };
    return {
      url: fetchedUrl ?? renderUrl(this.config.url, values),
      subscribe: this.config.subscribe.map((message) => renderText(message, values)),
    };
  }

  /** Where to resume: the cursor, rewound (numeric cursors) to cover what was in flight. */
  private resumeFrom(): string | undefined {
    const cursor = this.cursor?.cursor;
    const rewind = this.config.cursor?.rewind ?? 0;
    if (cursor === undefined || rewind === 0) return cursor;
    if (/^-?\d+$/.test(cursor) && Number.isInteger(rewind)) return (BigInt(cursor) - BigInt(rewind)).toString();
    const numeric = Number(cursor);
    return Number.isFinite(numeric) ? String(numeric - rewind) : cursor;
  }

  private startKeepAlive(): void {
    const { keepAlive, fetch } = this.config;
    if (!keepAlive || this.keepAliveTimer) return;
    this.keepAliveTimer = setInterval(() => {
      const url = renderUrl(keepAlive.url, { token: this.token });
      fetchValue({ url, method: keepAlive.method, headers: fetch?.headers ?? {}, body: undefined, pointer: undefined, timeoutMs: FETCH_TIMEOUT_MS }).then(
        () => this.deps.logger.debug("keep-alive call done"),
        (error: Error) => {
          this.metrics.fetchFailures.inc();
          this.deps.logger.warn({ err: error.message }, "keep-alive call failed");
        },
      );
    }, keepAlive.intervalMs);
  }

  private saveCursor(): Promise<void> {
    const { cursorStore, logger } = this.deps;
    if (!this.cursor || !cursorStore || !this.cursor.takeChanged()) return this.cursorSaving;
    const cursor = this.cursor.cursor!;
    // One save at a time, in order, so an older value never overwrites a newer one.
    this.cursorSaving = this.cursorSaving.then(() =>
      cursorStore.save(cursor).then(
        () => logger.debug({ cursor }, "cursor saved"),
        (error: Error) => logger.warn({ err: error.message, store: cursorStore.description }, "could not save the cursor; will retry"),
      ),
    );
    return this.cursorSaving;
  }

  private onAccepted(records: readonly FrameRecord[]): void {
    const { ack } = this.config;
    for (const record of records) {
      this.cursor?.settle(record.seq);
      if (ack && record.ackId !== undefined) {
        // Only now, with the frame in SQS, may the feed forget it.
        this.acked!.seen(record.ackId);
        this.sendAck(record.connectionId, record.ackId);
      }
    }
  }

  private sendAck(connectionId: string, id: string): void {
    if (this.feed.send(connectionId, renderJsonText(this.config.ack!.template, { id }))) this.metrics.acksSent.inc();
    else this.metrics.acksLost.inc();
  }

  private onFrame(data: Buffer, isBinary: boolean, connectionId: string): void {
    const seq = ++this.seq;
    const { config, metrics } = this;
    const { logger } = this.deps;
    if (isBinary) metrics.frameCounts.binary++;
    else metrics.frameCounts.text++;
    const text = isBinary ? undefined : data.toString("utf8");
    let document: unknown;
    if (this.needsJson && text !== undefined) {
      try {
        document = JSON.parse(text);
      } catch {
        document = null;
      }
    }

    if (this.gaps && document) {
      const sequence = config.sequence!.pointer.resolve(document);
      if (typeof sequence === "number") {
        const key = config.sequence!.keyPointer?.resolve(document);
        const gap = this.gaps.observe(key === undefined ? "" : String(key), sequence);
        if (gap) {
          metrics.sequenceGaps.inc();
          metrics.sequenceMissing.inc(gap.missing);
          logger.warn({ connectionId, key: gap.key, expected: gap.expected, got: gap.got, missing: gap.missing }, "sequence gap: the feed skipped messages");
        }
      }
    }
    if (text !== undefined && config.reconnectOn?.test(text)) {
      metrics.drop("control");
      this.feed.rotate("the feed asked for a new connection");
      return;
    }
    if (text !== undefined && config.dropMatching?.test(text)) {
      metrics.drop("filtered");
      return;
    }
    let cursorValue: string | undefined;
    if (this.cursor && document) {
      const value = config.cursor!.pointer.resolve(document);
      if (typeof value === "number" || typeof value === "string") cursorValue = String(value);
      if (this.restartCursor !== undefined && cursorValue !== undefined && /^-?\d+$/.test(cursorValue) && BigInt(cursorValue) <= this.restartCursor) {
        // Replayed after a restart: the previous run had this in SQS before it saved the cursor.
        metrics.drop("replayed");
        return;
      }
    }
    if (this.dedup && document) {
      const key = config.dedup!.pointer.resolve(document);
      if (key !== undefined && key !== null && this.dedup.seen(typeof key === "string" ? key : JSON.stringify(key))) {
        metrics.drop("duplicate");
        // A redelivery of something already in SQS (its first ack was lost): ack it again now.
        // If the first copy is still on its way, its own ack will follow.
        const ackId = config.ack?.idPointer.resolve(document);
        if (ackId !== undefined && this.acked!.has(String(ackId))) this.sendAck(connectionId, String(ackId));
        return;
      }
    }

    const outcome = frameToRecord(data, isBinary, {
      receivedAtMs: Date.now(),
      seq,
      connectionId,
      fifo: config.fifo,
      messageGroupId: config.messageGroupId,
      dedupId: config.dedupId,
      text,
      document: document ?? undefined,
    });
    if (outcome.kind === "empty") {
      metrics.drop("empty");
      logger.debug({ seq, connectionId }, "empty frame skipped");
      return;
    }
    if (outcome.kind === "too_large") {
      metrics.drop("too_large");
      logger.warn(
        { seq, connectionId, sizeBytes: outcome.sizeBytes, limitBytes: SQS_MAX_MESSAGE_BYTES },
        `frame of ${outcome.sizeBytes} bytes exceeds the SQS limit of ${SQS_MAX_MESSAGE_BYTES} bytes; dropped`,
      );
      return;
    }
    const record = outcome.record;
    if (config.ack && document) {
      const id = config.ack.idPointer.resolve(document);
      if (typeof id === "string" || typeof id === "number") record.ackId = String(id);
    }
    this.cursor?.track(seq, cursorValue);
    if (logger.isLevelEnabled("debug")) logger.debug({ seq, connectionId, body: record.body }, "frame");
    if (!this.forwarder.push(record) && !this.feed.paused) {
      metrics.backpressurePauses.inc();
      logger.warn({ bufferBytes: this.forwarder.bufferedBytes, maxBufferBytes: config.maxBufferBytes }, "buffer full; pausing the feed until SQS catches up");
      this.feed.pause();
    }
  }
}
