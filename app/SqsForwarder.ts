import type { SendMessageBatchResult } from "@aws-sdk/client-sqs";
import type { Logger } from "pino";
import { fullJitterDelayMs } from "./backoff";
import { type FrameRecord, SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES } from "./frameRecord";
import type { RelayMetrics } from "./RelayMetrics";

/** What SQS answered to one SendMessageBatch; entry Ids are the records' indexes in the batch. */
export type BatchAnswer = Pick<SendMessageBatchResult, "Successful" | "Failed">;

/**
 * The one SQS call the forwarder makes: SendMessageBatch of `records` with entry Ids "0", "1", …
 * (SqsJsonSender; tests wrap it). Rejects when the call as a whole fails, and with an error named
 * TimeoutError when SQS has not answered within `timeoutMs`.
 */
export interface BatchSender {
  sendBatch(queueUrl: string, records: readonly FrameRecord[], timeoutMs: number): Promise<BatchAnswer>;
}

export interface SqsForwarderOptions {
  readonly client: BatchSender;
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly maxInFlight: number;
  readonly maxBufferBytes: number;
  /** Deadline of one SendMessageBatch call: connecting, sending and the answer. */
  readonly sqsTimeoutMs: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /**
   * While some calls are in flight, a batch that is not yet full waits at most this long for
   * more frames before it goes anyway.
   */
  readonly lingerMs?: number;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  /** Called with the records SQS has just accepted, in send order within the batch. */
  readonly onAccepted?: (records: readonly FrameRecord[]) => void;
  /** Called with a record SQS refused for good (sender fault). */
  readonly onRefused?: (record: FrameRecord) => void;
  readonly now?: () => number;
}

/**
 * Buffers frame records and sends them with SendMessageBatch.
 *
 * With nothing in flight a record goes out at once (latency at low rates); while calls are in
 * flight, batches fill up (throughput at high rates). Failed calls and failed entries are
 * retried with backoff until they succeed or the caller gives up at shutdown; only sender-fault
 * entries are dropped, each one logged and counted. It never throws: it reports.
 */
export class SqsForwarder {
  private pending: FrameRecord[] = [];
  private head = 0;
  /** Entries that failed, sent again before anything newer. */
  private retries: FrameRecord[] = [];
  private buffered = 0;
  private inFlight = 0;
  private inFlightRecords = 0;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private flushing = false;
  private readonly idleWaiters = new Set<() => void>();
  private readonly drainListeners = new Set<() => void>();
  private full = false;
  private lastFailureLogAt = 0;
  private readonly now: () => number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly lingerMs: number;

  constructor(private readonly options: SqsForwarderOptions) {
    this.now = options.now ?? Date.now;
    this.retryMinMs = options.retryMinMs ?? 50;
    this.retryMaxMs = options.retryMaxMs ?? 2_000;
    this.lingerMs = options.lingerMs ?? 10;
  }

  /** Bytes accepted from the feed and not yet accepted by SQS. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get inFlightCalls(): number {
    return this.inFlight;
  }

  /** Records accepted from the feed and not yet accepted by SQS (or dropped). */
  get pendingCount(): number {
    return this.pending.length - this.head + this.retries.length + this.inFlightRecords;
  }

  /** True once the buffer is at or above its cap; the caller should stop reading. */
  get isFull(): boolean {
    return this.full;
  }

  /** Registers a callback for when a full buffer has drained to half its cap. */
  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Takes a record; returns false when the buffer is now full (stop reading until drain). */
  push(record: FrameRecord): boolean {
    this.pending.push(record);
    this.buffered += record.sizeBytes;
    if (this.buffered >= this.options.maxBufferBytes) this.full = true;
    this.pump();
    return !this.full;
  }

  /**
   * Sends everything now (no lingering) and resolves once nothing is left or the deadline has
   * passed, with the number of records still undelivered.
   */
  async flush(deadlineAtMs: number): Promise<number> {
    this.flushing = true;
    this.pump();
    if (this.pendingCount === 0) return 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadlineAtMs - this.now()));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.add(done);
    });
    this.idleWaiters.clear();
    return this.pendingCount;
  }

  /** Stops timers; what is still buffered stays undelivered. */
  close(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.lingerTimer);
    this.retryTimer = undefined;
    this.lingerTimer = undefined;
  }

  private queuedCount(): number {
    return this.pending.length - this.head + this.retries.length;
  }

  private pump(lingerExpired = false): void {
    // FIFO keeps order only with one call at a time; while SQS is failing, one call probes it.
    const limit = this.options.fifo || this.consecutiveFailures > 0 ? 1 : this.options.maxInFlight;
    while (this.inFlight < limit && this.queuedCount() > 0) {
      const waitMs = this.retryAt - this.now();
      if (waitMs > 0) {
        if (!this.retryTimer) this.retryTimer = setTimeout(() => ((this.retryTimer = undefined), this.pump()), waitMs);
        return;
      }
      if (this.inFlight > 0 && !this.flushing && !lingerExpired && !this.batchIsFull()) {
        if (!this.lingerTimer) this.lingerTimer = setTimeout(() => ((this.lingerTimer = undefined), this.pump(true)), this.lingerMs);
        return;
      }
      void this.send(this.takeBatch());
    }
  }

  private batchIsFull(): boolean {
    if (this.queuedCount() >= SQS_MAX_BATCH_ENTRIES) return true;
    let bytes = 0;
    for (const record of this.retries) bytes += record.sizeBytes;
    for (let i = this.head; i < this.pending.length; i++) bytes += this.pending[i]!.sizeBytes;
    return bytes >= SQS_MAX_BATCH_BYTES / 2;
  }

  private takeBatch(): FrameRecord[] {
    const batch: FrameRecord[] = [];
    let bytes = 0;
    const fits = (record: FrameRecord): boolean =>
      batch.length < SQS_MAX_BATCH_ENTRIES && (batch.length === 0 || bytes + record.sizeBytes <= SQS_MAX_BATCH_BYTES);
    while (this.retries.length > 0 && fits(this.retries[0]!)) {
      const record = this.retries.shift()!;
      bytes += record.sizeBytes;
      batch.push(record);
    }
    while (this.head < this.pending.length && fits(this.pending[this.head]!)) {
      const record = this.pending[this.head]!;
      this.pending[this.head++] = undefined as unknown as FrameRecord;
      bytes += record.sizeBytes;
      batch.push(record);
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async send(batch: FrameRecord[]): Promise<void> {
    const { client, queueUrl, logger, metrics, sqsTimeoutMs } = this.options;
    this.inFlight++;
    this.inFlightRecords += batch.length;
    metrics.batchSize.observe(batch.length);
    const startedAt = performance.now();
    let retry: FrameRecord[] = [];
    const accepted: FrameRecord[] = [];
    try {
      const output = await client.sendBatch(queueUrl, batch, sqsTimeoutMs);
      const seconds = (performance.now() - startedAt) / 1000;
      const answered = new Set<string>();
      for (const ok of output.Successful ?? []) {
        const record = batch[Number(ok.Id)];
        if (!record || answered.has(ok.Id!)) continue;
        answered.add(ok.Id!);
        accepted.push(record);
      }
      for (const failed of output.Failed ?? []) {
        const record = batch[Number(failed.Id)];
        if (!record || answered.has(failed.Id!)) continue;
        answered.add(failed.Id!);
        if (failed.SenderFault) {
          // SQS will never take this entry as it is (size, characters): drop it, never block the rest.
          this.settle(record);
          metrics.drop("sender_fault");
          this.options.onRefused?.(record);
          logger.warn({ seq: record.seq, connectionId: record.connectionId, code: failed.Code, reason: failed.Message, sizeBytes: record.sizeBytes }, "SQS refused a message (sender fault); dropped");
        } else {
          retry.push(record);
        }
      }
      // An entry SQS did not mention at all is not known to be stored: send it again.
      for (let i = 0; i < batch.length; i++) if (!answered.has(String(i))) retry.push(batch[i]!);
      metrics.sqsCallSeconds.labels(retry.length > 0 ? "partial" : "ok").observe(seconds);
      if (retry.length > 0) {
        this.noteFailure(`${retry.length} of ${batch.length} entries failed: ${output.Failed?.[0]?.Code ?? "not answered"}`);
      } else {
        this.noteSuccess();
      }
    } catch (error) {
      metrics.sqsCallSeconds.labels("error").observe((performance.now() - startedAt) / 1000);
      retry = batch;
      const err = error as Error;
      this.noteFailure(err.name === "TimeoutError" ? `no answer within ${sqsTimeoutMs} ms` : `${err.name}: ${err.message}`);
    }
    for (const record of accepted) this.settle(record);
    metrics.messagesEnqueued.inc(accepted.length);
    if (retry.length > 0) {
      metrics.retriedEntries.inc(retry.length);
      this.retries.push(...retry);
      this.inFlightRecords -= retry.length;
    }
    this.inFlight--;
    if (accepted.length > 0) this.options.onAccepted?.(accepted);
    this.afterChange();
    this.pump();
  }

  private settle(record: FrameRecord): void {
    this.buffered -= record.sizeBytes;
    this.inFlightRecords--;
  }

  private noteSuccess(): void {
    if (this.consecutiveFailures > 0) {
      this.options.logger.info({ failedCalls: this.consecutiveFailures }, "SQS is accepting messages again");
    }
    this.consecutiveFailures = 0;
    this.retryAt = 0;
  }

  private noteFailure(reason: string): void {
    this.consecutiveFailures++;
    const delayMs = fullJitterDelayMs(this.consecutiveFailures - 1, this.retryMinMs, this.retryMaxMs);
    this.retryAt = Math.max(this.retryAt, this.now() + delayMs);
    // One line per failure would flood the log during an outage: the first, then every 10 s.
    const now = this.now();
    if (this.consecutiveFailures === 1 || now - this.lastFailureLogAt >= 10_000) {
      this.lastFailureLogAt = now;
      this.options.logger.warn({ reason, failedCalls: this.consecutiveFailures, retryInMs: delayMs, bufferBytes: this.buffered }, "SQS call failed; retrying");
    }
  }

  private afterChange(): void {
    if (this.full && this.buffered <= this.options.maxBufferBytes / 2) {
      this.full = false;
      for (const listener of [...this.drainListeners]) listener();
    }
    if (this.pendingCount === 0) for (const waiter of [...this.idleWaiters]) waiter();
  }
}
