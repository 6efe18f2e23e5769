import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { EventTools } from "./createHandler";
import type { RelayEvent } from "./RelayEvent";

/** Name of the EMF metric (namespace `ws-relay`) for the time from the relay's receive to this Lambda. */
export const FEED_TO_LAMBDA_AGE_METRIC = "FeedToLambdaAgeMs";

/**
 * A text frame that starts like JSON (`{` or `[`) but does not parse: a truncated or corrupted feed
 * message. The default handler refuses it so that, after `maxReceiveCount` attempts, it waits in
 * the DLQ for someone to look at it instead of vanishing into a log line.
 */
export class MalformedJsonError extends Error {
  constructor(messageId: string) {
    super(`message ${messageId}: the body starts like JSON but does not parse (truncated or corrupted frame)`);
    this.name = "MalformedJsonError";
  }
}

/**
 * The default event handler a stack deploys until you supply your own: one structured log line per
 * event (no payload above debug) and the feed→Lambda age as an EMF metric. Refuses a frame that
 * looks like JSON but is not (MalformedJsonError), so it ends up in the DLQ.
 */
export function logEvent(event: RelayEvent, tools: EventTools): void {
  const ageMs = Math.max(0, tools.now() - event.receivedAtMs);
  tools.metrics.addMetric(FEED_TO_LAMBDA_AGE_METRIC, MetricUnit.Milliseconds, ageMs);
  // toRelayEvent leaves `json` undefined when the body does not parse; binary frames are Buffers.
  if (event.json === undefined && typeof event.body === "string" && /^\s*[[{]/.test(event.body)) {
    throw new MalformedJsonError(event.messageId);
  }
  tools.logger.info("event", {
    messageId: event.messageId,
    connectionId: event.connectionId,
    seq: event.seq,
    receivedAtMs: event.receivedAtMs,
    ageMs,
    receiveCount: event.receiveCount,
    bytes: typeof event.body === "string" ? Buffer.byteLength(event.body) : event.body.length,
    binary: typeof event.body !== "string",
    json: event.json !== undefined,
  });
  tools.logger.debug("event body", { messageId: event.messageId, body: bodyForLog(event) });
}

function bodyForLog(event: RelayEvent): unknown {
  if (event.json !== undefined) return event.json;
  return typeof event.body === "string" ? event.body : event.body.toString("base64");
}
