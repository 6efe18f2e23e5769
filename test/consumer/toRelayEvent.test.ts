import assert from "node:assert/strict";
import { RecordDecodeError } from "../../consumer/RelayEvent";
import { toRelayEvent } from "../../consumer/toRelayEvent";
import { sqsRecord } from "./sqsRecord";

describe("toRelayEvent", () => {
  it("parses a JSON text frame and reads the relay attributes", () => {
    const record = sqsRecord({ body: '{"price":"1.5"}', relay: { receivedAt: 1_764_000_000_123, seq: 42, connectionId: "c-7" }, receiveCount: 3 });

    const event = toRelayEvent(record);

    assert.equal(event.body, '{"price":"1.5"}');
    assert.deepEqual(event.json, { price: "1.5" });
    assert.equal(event.receivedAtMs, 1_764_000_000_123);
    assert.equal(event.seq, 42);
    assert.equal(event.connectionId, "c-7");
    assert.equal(event.messageId, record.messageId);
    assert.equal(event.receiveCount, 3);
  });

  it("keeps plain text as a string with no JSON", () => {
    const event = toRelayEvent(sqsRecord({ body: "hello, feed", relay: { seq: 1 } }));

    assert.equal(event.body, "hello, feed");
    assert.equal(event.json, undefined);
  });

  it("leaves text that only looks like JSON unparsed", () => {
    assert.equal(toRelayEvent(sqsRecord({ body: "{not json" })).json, undefined);
  });

  it("decodes a base64 binary frame to a Buffer", () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const event = toRelayEvent(sqsRecord({ body: bytes.toString("base64"), relay: { encoding: "base64", frameType: "binary" } }));

    assert.ok(Buffer.isBuffer(event.body));
    assert.deepEqual(event.body, bytes);
    assert.equal(event.json, undefined);
  });

  it("decodes a base64 text frame back to the string, and parses it when it is JSON", () => {
    const text = '{"note":"noncharacter \uffff inside"}'; // U+FFFF is outside SQS's allowed characters
    const event = toRelayEvent(sqsRecord({ body: Buffer.from(text).toString("base64"), relay: { encoding: "base64", frameType: "text" } }));

    assert.equal(event.body, text);
    assert.deepEqual(event.json, { note: "noncharacter \uffff inside" });
  });

  it("falls back to SQS SentTimestamp when the relay attributes are missing", () => {
    const event = toRelayEvent(sqsRecord({ body: "x", sentAtMs: 1_700_000_000_000 }));

    assert.equal(event.receivedAtMs, 1_700_000_000_000);
    assert.equal(event.seq, undefined);
    assert.equal(event.connectionId, undefined);
  });

  it("refuses an unknown encoding and a non-numeric number attribute", () => {
    assert.throws(() => toRelayEvent(sqsRecord({ relay: { encoding: "gzip" } })), (error: unknown) => {
      assert.ok(error instanceof RecordDecodeError);
      assert.match(error.message, /relay\.encoding "gzip"/);
      return true;
    });
    const record = sqsRecord();
    record.messageAttributes["relay.seq"] = { dataType: "Number", stringValue: "NaN-ish", stringListValues: [], binaryListValues: [] };
    assert.throws(() => toRelayEvent(record), /relay\.seq is not a number/);
  });
});
