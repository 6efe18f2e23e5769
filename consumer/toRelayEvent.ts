import type { SQSRecord } from "aws-lambda";
import { RELAY_ATTRIBUTES, RecordDecodeError, type RelayEvent } from "./RelayEvent";

/** Decodes one SQS record written by the relay. Throws RecordDecodeError for a malformed record. */
export function toRelayEvent(record: SQSRecord): RelayEvent {
  const attributes = record.messageAttributes ?? {};
  const text = (name: string): string | undefined => attributes[name]?.stringValue;
  const number = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) {
      throw new RecordDecodeError(`message ${record.messageId}: attribute ${name} is not a number: ${JSON.stringify(value)}`);
    }
    return parsed;
  };

  const encoding = text(RELAY_ATTRIBUTES.encoding);
  let body: string | Buffer;
  if (encoding === undefined) {
    body = record.body;
  } else if (encoding === "base64") {
    const bytes = Buffer.from(record.body, "base64");
    // The relay marks base64 text frames (characters SQS refuses) as "text"; everything else is binary.
    body = text(RELAY_ATTRIBUTES.frameType) === "text" ? bytes.toString("utf8") : bytes;
  } else {
    throw new RecordDecodeError(`message ${record.messageId}: unknown ${RELAY_ATTRIBUTES.encoding} ${JSON.stringify(encoding)}`);
  }

  const sentAtMs = Number(record.attributes.SentTimestamp);
  return Object.freeze({
    body,
    json: typeof body === "string" ? parseJson(body) : undefined,
    receivedAtMs: number(RELAY_ATTRIBUTES.receivedAt) ?? sentAtMs,
    sentAtMs,
    seq: number(RELAY_ATTRIBUTES.seq),
    connectionId: text(RELAY_ATTRIBUTES.connectionId),
    messageId: record.messageId,
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    messageGroupId: record.attributes.MessageGroupId,
  });
}

function parseJson(text: string): unknown {
  // Cheap pre-check: most non-JSON frames fail on the first character without a throw.
  const first = text.trimStart()[0];
  if (first === undefined || !'{["-0123456789tfn'.includes(first)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
