import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { toSqsRecord } from "./toSqsRecord";

export type BatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse | void>;

export interface LambdaRunnerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly handler: BatchHandler;
  /** Event source mapping BatchSize: records per invocation at most. */
  readonly batchSize: number;
  /** Event source mapping MaximumBatchingWindowInSeconds, in ms: how long to gather records. */
  readonly batchingWindowMs: number;
  /** The function timeout: an invocation still running then counts as failed, its whole batch. */
  readonly timeoutMs: number;
  readonly functionName?: string;
  /** Told about failures the loop handled (it never throws). */
  readonly onProblem?: (problem: RunnerProblem) => void;
}

export type RunnerProblem =
  | { readonly kind: "receive" | "delete"; readonly error: Error }
  | { readonly kind: "invocation"; readonly error: Error; readonly records: number }
  | { readonly kind: "timeout"; readonly records: number; readonly timeoutMs: number };

export interface RunnerStats {
  invocations: number;
  received: number;
  /** Records the handler succeeded with, deleted from the queue. */
  consumed: number;
  /** Record failures (one message failing three times counts three). */
  failed: number;
  problems: number;
}

// Lambda's synchronous invocation payload limit is 6 MB; SQS messages are at most 1 MiB, so stop
// gathering once a batch is within 1 MiB of it.
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 1024 * 1024;
// SQS limits: at most 10 messages per ReceiveMessage and per DeleteMessageBatch; long poll ≤ 20 s.
const SQS_MAX_BATCH = 10;
const LONG_POLL_SECONDS = 20;
const RETRY_DELAY_MS = 1_000;

/**
 * Plays the Lambda service's part for an SQS event source mapping with ReportBatchItemFailures:
 * long-polls the queue, gathers up to `batchSize` records for at most the batching window, invokes
 * the handler with an SQS event, deletes the records that succeeded and leaves the failures to
 * come back after the visibility timeout — and, past maxReceiveCount, to be moved to the DLQ by
 * the queue's redrive policy. One poller, one invocation at a time.
 */
export class LambdaRunner {
  readonly stats: RunnerStats = { invocations: 0, received: 0, consumed: 0, failed: 0, problems: 0 };
  private readonly abort = new AbortController();
  private draining = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: LambdaRunnerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stops polling once the queue has nothing visible left (or at the deadline), after the
   * invocation in progress. Failed records stay in the queue, as they would in AWS.
   */
  async drain(deadlineAtMs: number): Promise<void> {
    this.draining = true;
    const timer = setTimeout(() => this.abort.abort(), Math.max(0, deadlineAtMs - Date.now()));
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops now: a receive in progress is abandoned (its messages come back after the visibility timeout). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const messages = await this.gather();
      if (messages === undefined) break;
      if (messages.length > 0) await this.invoke(messages);
    }
  }

  /** One batch; `undefined` when the runner should stop. */
  private async gather(): Promise<Message[] | undefined> {
    const { batchSize, batchingWindowMs } = this.options;
    const messages: Message[] = [];
    let bytes = 0;
    let windowEndsAtMs: number | undefined;
    while (!this.stopped && messages.length < batchSize && bytes < MAX_PAYLOAD_BYTES) {
      const remainingMs = windowEndsAtMs === undefined ? undefined : windowEndsAtMs - Date.now();
      if (remainingMs !== undefined && remainingMs <= 0) break;
      // Draining: take what is there without waiting; otherwise wait for the first record as long as
      // SQS allows, then only for what is left of the window.
      const waitSeconds = this.draining ? 0 : remainingMs === undefined ? LONG_POLL_SECONDS : Math.min(LONG_POLL_SECONDS, Math.floor(remainingMs / 1000));
      let received: Message[];
      try {
        received = await this.receive(Math.min(SQS_MAX_BATCH, batchSize - messages.length), waitSeconds);
      } catch (error) {
        if (this.stopped) break;
        this.problem({ kind: "receive", error: error as Error });
        await delay(RETRY_DELAY_MS, this.abort.signal);
        continue;
      }
      this.stats.received += received.length;
      for (const message of received) {
        messages.push(message);
        bytes += Buffer.byteLength(message.Body ?? "");
      }
      if (received.length === 0) {
        if (this.draining) return messages.length > 0 ? messages : undefined;
        if (remainingMs !== undefined && waitSeconds === 0) await delay(Math.min(remainingMs, 50), this.abort.signal);
        continue;
      }
      if (batchingWindowMs === 0 || this.draining) break;
      windowEndsAtMs ??= Date.now() + batchingWindowMs;
    }
    // Received but not invoked (stopping): they come back after the visibility timeout, as in AWS.
    if (this.stopped && messages.length === 0) return undefined;
    return messages;
  }

  private async receive(maxMessages: number, waitSeconds: number): Promise<Message[]> {
    const response = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: this.abort.signal },
    );
    return response.Messages ?? [];
  }

  private async invoke(messages: Message[]): Promise<void> {
    const { handler, timeoutMs, queueArn, region } = this.options;
    const records = messages.map((message) => toSqsRecord(message, { queueArn, region }));
    this.stats.invocations++;
    let failedIds: Set<string>;
    try {
      const outcome = await withTimeout(handler({ Records: records }, this.context(timeoutMs)), timeoutMs);
      if (outcome === TIMED_OUT) {
        this.problem({ kind: "timeout", records: records.length, timeoutMs });
        failedIds = new Set(records.map((record) => record.messageId));
      } else {
        failedIds = failuresOf(outcome, records);
      }
    } catch (error) {
      // A thrown error fails the whole batch (Powertools throws when every record failed).
      this.problem({ kind: "invocation", error: error as Error, records: records.length });
      failedIds = new Set(records.map((record) => record.messageId));
    }
    this.stats.failed += failedIds.size;
    const succeeded = records.filter((record) => !failedIds.has(record.messageId));
    await this.delete(succeeded);
  }

  private async delete(records: SQSRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += SQS_MAX_BATCH) {
      const chunk = records.slice(start, start + SQS_MAX_BATCH);
      try {
        const response = await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
        const failed = response.Failed ?? [];
        this.stats.consumed += chunk.length - failed.length;
        if (failed.length > 0) this.problem({ kind: "delete", error: new Error(`${failed.length} deletes refused: ${failed[0]!.Code} ${failed[0]!.Message ?? ""}`) });
      } catch (error) {
        // Not deleted: the records come back after the visibility timeout and are handled again.
        this.problem({ kind: "delete", error: error as Error });
      }
    }
  }

  private context(timeoutMs: number): Context {
    const deadlineMs = Date.now() + timeoutMs;
    const functionName = this.options.functionName ?? "ws-relay-local-consumer";
    const fail = (): never => {
      throw new Error("not available in the local runner");
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:${this.options.region}:000000000000:function:${functionName}`,
      memoryLimitInMB: "256",
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: "local",
      getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
      done: fail,
      fail,
      succeed: fail,
    };
  }

  private problem(problem: RunnerProblem): void {
    this.stats.problems++;
    this.options.onProblem?.(problem);
  }
}

/**
 * Lambda's rules for a partial batch response: failures name records of this batch; an
 * identifier that is empty or unknown fails the whole batch; no response means all succeeded.
 */
function failuresOf(response: SQSBatchResponse | void, records: SQSRecord[]): Set<string> {
  const ids = new Set(records.map((record) => record.messageId));
  const failures = response?.batchItemFailures ?? [];
  if (failures.some((failure) => !failure.itemIdentifier || !ids.has(failure.itemIdentifier))) return ids;
  return new Set(failures.map((failure) => failure.itemIdentifier));
}

const TIMED_OUT = Symbol("timed out");

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
