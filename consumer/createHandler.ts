import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelayEvent } from "./RelayEvent";
import { toRelayEvent } from "./toRelayEvent";

/** What every event handler gets besides the event: the invocation's logger and metrics. */
export interface EventTools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Epoch ms; injectable so tests control the clock. */
  readonly now: () => number;
  readonly lambdaContext: Context | undefined;
}

/** Handles one event. Throw (or reject) to report this record as failed; the others still succeed. */
export type OnEvent = (event: RelayEvent, tools: EventTools) => unknown;

export interface CreateHandlerOptions {
  /**
   * The queue is FIFO: records are processed in order and the first failure fails every later record
   * (SQS FIFO rule: a group must not skip ahead). Default false.
   */
  readonly fifo?: boolean;
  /** FIFO only: fail just the failed record's message group instead of every later record. Default false. */
  readonly skipGroupOnError?: boolean;
  /** Standard queues only: handle the batch's records concurrently. Default true. */
  readonly processInParallel?: boolean;
  /**
   * Throw when every record failed (Powertools' default), so the invocation counts as a Lambda error
   * and the errors alarm fires; SQS retries the whole batch either way. Default true.
   */
  readonly throwOnFullBatchFailure?: boolean;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
}

export const DEFAULT_SERVICE_NAME = "ws-relay-consumer";
export const DEFAULT_METRICS_NAMESPACE = "ws-relay";

export type SqsBatchHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/**
 * Builds the Lambda handler for the relay's queue: decodes each record into a RelayEvent, calls
 * `onEvent` for it and returns a partial batch response (the event source mapping must have
 * `ReportBatchItemFailures`). Call it once per cold start (Pulumi `callbackFactory`).
 */
export function createHandler(onEvent: OnEvent, options: CreateHandlerOptions = {}): SqsBatchHandler {
  // The stack sets POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (its dashboard reads them);
  // an explicit option would override them, so fall back only when they are missing.
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME;
  const logger = options.logger ?? new Logger({ serviceName });
  const metrics = options.metrics ?? new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE });
  const now = options.now ?? Date.now;
  const fifo = options.fifo ?? false;
  const processor = fifo ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);

  return async function handleSqsBatch(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    const tools: EventTools = { logger, metrics, now, lambdaContext: context };
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      let relayEvent: RelayEvent;
      try {
        relayEvent = toRelayEvent(record);
      } catch (error) {
        logger.error("undecodable record", { messageId: record.messageId, error: error as Error });
        throw error;
      }
      try {
        await onEvent(relayEvent, tools);
      } catch (error) {
        logger.warn("event handler failed", {
          messageId: record.messageId,
          receiveCount: relayEvent.receiveCount,
          error: error as Error,
        });
        throw error;
      }
    };
    try {
      const throwOnFullBatchFailure = options.throwOnFullBatchFailure ?? true;
      return fifo
        ? await processPartialResponse(event, handleRecord, processor as SqsFifoPartialProcessorAsync, {
            context,
            skipGroupOnError: options.skipGroupOnError ?? false,
            throwOnFullBatchFailure,
          })
        : await processPartialResponse(event, handleRecord, processor as BatchProcessor, {
            context,
            processInParallel: options.processInParallel ?? true,
            throwOnFullBatchFailure,
          });
    } finally {
      // EMF: one JSON line on stdout per batch; the Lambda log group turns it into metrics.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
