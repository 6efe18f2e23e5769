import { strict as assert } from "node:assert";
import { fullJitterDelayMs } from "../../app/backoff";
import { ConfigError, parseConfig, redactUrl } from "../../app/config";
import { batchRequestBody, frameToRecord } from "../../app/frameRecord";
import { JsonPointer } from "../../app/JsonPointer";

const context = { receivedAtMs: 1_700_000_000_000, seq: 7, connectionId: "conn", fifo: false, messageGroupId: undefined, dedupId: undefined };

describe("JsonPointer (RFC 6901)", () => {
  it("resolves members, array indexes and escaped names", () => {
    const doc = { product_id: "BTC-USD", "a/b": { "m~n": [10, 20] } };
    assert.equal(JsonPointer.parse("/product_id").resolve(doc), "BTC-USD");
    assert.equal(JsonPointer.parse("/a~1b/m~0n/1").resolve(doc), 20);
    assert.equal(JsonPointer.parse("/missing/x").resolve(doc), undefined);
    assert.equal(JsonPointer.parse("/a~1b/m~0n/01").resolve(doc), undefined, "leading zeros are not indexes");
  });
  it("rejects pointers that do not start with / and bad escapes", () => {
    assert.throws(() => JsonPointer.parse("product_id"), /starts with \//);
    assert.throws(() => JsonPointer.parse("/a~2"), /bad escape/);
  });
});

describe("frameToRecord", () => {
  it("counts body and attributes against the SQS limit", () => {
    const outcome = frameToRecord(Buffer.from("héllo"), false, context);
    assert.equal(outcome.kind, "record");
    if (outcome.kind !== "record") return;
    const request = JSON.parse(batchRequestBody("q", [outcome.record])) as { Entries: Array<{ MessageAttributes: Record<string, { DataType: string; StringValue: string }> }> };
    const attributeBytes = Object.entries(request.Entries[0]!.MessageAttributes).reduce((sum, [name, value]) => sum + name.length + value.DataType.length + Buffer.byteLength(value.StringValue), 0);
    assert.equal(outcome.record.sizeBytes, Buffer.byteLength("héllo") + attributeBytes);
  });
  it("base64-encodes lone control characters and U+FFFE but keeps astral text verbatim", () => {
    for (const text of ["\u0001", "a\uFFFEb"]) {
      const outcome = frameToRecord(Buffer.from(text), false, context);
      assert.ok(outcome.kind === "record" && outcome.record.encodedFrom === "text", JSON.stringify(text));
    }
    const emoji = frameToRecord(Buffer.from("rocket 🚀\ttab\r\n"), false, context);
    assert.ok(emoji.kind === "record" && emoji.record.encodedFrom === undefined && emoji.record.body === "rocket 🚀\ttab\r\n");
  });
  it("hashes FIFO ids that SQS would refuse", () => {
    const outcome = frameToRecord(Buffer.from(JSON.stringify({ g: "has space", d: "x".repeat(200) })), false, {
      ...context,
      fifo: true,
      messageGroupId: { kind: "pointer", pointer: JsonPointer.parse("/g") },
      dedupId: { kind: "pointer", pointer: JsonPointer.parse("/d") },
    });
    assert.ok(outcome.kind === "record");
    assert.match(outcome.record.groupId!, /^[0-9a-f]{64}$/);
    assert.match(outcome.record.dedupId!, /^[0-9a-f]{64}$/);
  });
});

describe("parseConfig", () => {
  const base = { RELAY_URL: "wss://feed.example/ws", RELAY_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/feed" };
  it("applies the documented defaults and freezes the result", () => {
    const config = parseConfig(base);
    assert.equal(config.pingIntervalMs, 15_000);
    assert.equal(config.idleTimeoutMs, 0);
    assert.equal(config.reconnectMinMs, 250);
    assert.equal(config.reconnectMaxMs, 30_000);
    assert.equal(config.maxBufferBytes, 33_554_432);
    assert.equal(config.maxInFlight, 8);
    assert.equal(config.healthPort, 8080);
    assert.equal(config.shutdownTimeoutMs, 25_000);
    assert.equal(config.logLevel, "info");
    assert.equal(config.fifo, false);
    assert.ok(Object.isFrozen(config));
  });
  it("adds the token as a bearer header, or raw with an empty scheme", () => {
    assert.equal(parseConfig({ ...base, RELAY_TOKEN: "abc" }).headers.Authorization, "Bearer abc");
    assert.equal(parseConfig({ ...base, RELAY_TOKEN: "abc", RELAY_TOKEN_HEADER: "X-Key", RELAY_TOKEN_SCHEME: "" }).headers["X-Key"], "abc");
  });
  it("JSON-encodes non-string subscribe messages and keeps strings as they are", () => {
    assert.deepEqual(parseConfig({ ...base, RELAY_SUBSCRIBE: '[{"a":1},"raw text"]' }).subscribe, ['{"a":1}', "raw text"]);
  });
  it("takes AWS_ENDPOINT_URL_SQS over AWS_ENDPOINT_URL", () => {
    assert.equal(parseConfig({ ...base, AWS_ENDPOINT_URL: "http://a:1", AWS_ENDPOINT_URL_SQS: "http://b:2" }).sqsEndpoint, "http://b:2");
    assert.equal(parseConfig({ ...base, AWS_ENDPOINT_URL: "http://a:1" }).sqsEndpoint, "http://a:1");
  });
  it("rejects a reconnect maximum below the minimum, naming the variable", () => {
    assert.throws(() => parseConfig({ ...base, RELAY_RECONNECT_MIN_MS: "500", RELAY_RECONNECT_MAX_MS: "100" }), (error: unknown) => error instanceof ConfigError && error.variable === "RELAY_RECONNECT_MAX_MS");
  });
  it("never echoes a malformed URL that may carry a secret", () => {
    assert.throws(() => parseConfig({ ...base, RELAY_URL: "wss://[bad?key=sk_live_1" }), (error: unknown) => error instanceof ConfigError && !error.message.includes("sk_live_1"));
    assert.equal(redactUrl("wss://user:pw@feed.example/ws?key=sk&x=1"), "wss://***@feed.example/ws?key=***&x=***");
  });
});

describe("fullJitterDelayMs", () => {
  it("grows with the attempt up to the maximum and stays at least half the minimum", () => {
    assert.equal(fullJitterDelayMs(0, 100, 1_000, () => 0.999), 99);
    assert.equal(fullJitterDelayMs(3, 100, 1_000, () => 0.999), 799);
    assert.equal(fullJitterDelayMs(30, 100, 1_000, () => 0.999), 999);
    assert.equal(fullJitterDelayMs(5, 100, 1_000, () => 0), 50);
  });
});
