/**
 * One frame of the feed as the consumer sees it: the SQS record decoded back into what the relay
 * received. Attribute names are the relay's contract (see the relay's README).
 */
export interface RelayEvent {
  /** The frame: a string for text frames, a Buffer for binary ones. */
  readonly body: string | Buffer;
  /** The parsed body when the frame is JSON text; `undefined` otherwise (JSON has no `undefined`). */
  readonly json: unknown;
  /** Epoch ms at which the relay received the frame (`relay.receivedAt`); SQS `SentTimestamp` when absent. */
  readonly receivedAtMs: number;
  /** Epoch ms at which SQS accepted the message (`SentTimestamp`). */
  readonly sentAtMs: number;
  /** The relay's per-process sequence number (`relay.seq`), when present. */
  readonly seq: number | undefined;
  /** The relay's connection id (`relay.connectionId`), when present. */
  readonly connectionId: string | undefined;
  readonly messageId: string;
  /** How many times SQS has handed out this message, this delivery included. */
  readonly receiveCount: number;
  /** FIFO queues only. */
  readonly messageGroupId: string | undefined;
}

export const RELAY_ATTRIBUTES = Object.freeze({
  receivedAt: "relay.receivedAt",
  seq: "relay.seq",
  connectionId: "relay.connectionId",
  encoding: "relay.encoding",
  frameType: "relay.frameType",
});

/** A record that cannot be decoded; the batch processor reports it as a failure. */
export class RecordDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecordDecodeError";
  }
}
