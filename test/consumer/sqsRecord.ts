import type { SQSMessageAttributes, SQSRecord } from "aws-lambda";

let nextId = 1;

export interface SqsRecordOptions {
  body?: string;
  messageId?: string;
  /** relay.* attributes; numbers become Number attributes. */
  relay?: { receivedAt?: number; seq?: number; connectionId?: string; encoding?: string; frameType?: "text" | "binary" };
  receiveCount?: number;
  sentAtMs?: number;
  messageGroupId?: string;
  queueArn?: string;
}

/** A record as Lambda delivers it from SQS, with the relay's message attributes. */
export function sqsRecord(options: SqsRecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? `00000000-0000-4000-8000-${String(nextId++).padStart(12, "0")}`;
  const messageAttributes: SQSMessageAttributes = {};
  for (const [key, value] of Object.entries(options.relay ?? {})) {
    if (value === undefined) continue;
    messageAttributes[`relay.${key}`] = {
      dataType: typeof value === "number" ? "Number" : "String",
      stringValue: String(value),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const sentAtMs = options.sentAtMs ?? 1_764_000_000_000;
  const queueArn = options.queueArn ?? "arn:aws:sqs:eu-west-1:123456789012:relay-queue";
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: options.body ?? "{}",
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAtMs),
      SenderId: "AROAEXAMPLE:relay",
      ApproximateFirstReceiveTimestamp: String(sentAtMs + 5),
      ...(options.messageGroupId !== undefined
        ? { MessageGroupId: options.messageGroupId, MessageDeduplicationId: messageId, SequenceNumber: String(nextId) }
        : {}),
    },
    messageAttributes,
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: "eu-west-1",
  };
}

/** The four kinds of record the relay writes, plus one the test handlers refuse (`{"fail":true}`). */
export function relayBatch(receivedAt: number): SQSRecord[] {
  const relay = { receivedAt, connectionId: "conn-1" };
  return [
    sqsRecord({ body: '{"type":"ticker","product_id":"BTC-USD","price":"97000.01"}', relay: { ...relay, seq: 1 }, messageGroupId: "BTC-USD" }),
    sqsRecord({ body: "plain text frame", relay: { ...relay, seq: 2 }, messageGroupId: "BTC-USD" }),
    sqsRecord({
      body: Buffer.from([0x00, 0xff, 0x10, 0x80]).toString("base64"),
      relay: { ...relay, seq: 3, encoding: "base64", frameType: "binary" },
      messageGroupId: "BTC-USD",
    }),
    sqsRecord({ body: '{"fail":true}', relay: { ...relay, seq: 4 }, messageGroupId: "BTC-USD" }),
    sqsRecord({ body: '{"type":"ticker","product_id":"BTC-USD","price":"97000.02"}', relay: { ...relay, seq: 5 }, messageGroupId: "BTC-USD" }),
  ];
}
