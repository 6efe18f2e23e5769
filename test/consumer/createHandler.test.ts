import assert from "node:assert/strict";
import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import type { SQSEvent } from "aws-lambda";
import { createHandler, type OnEvent } from "../../consumer/createHandler";
import { FEED_TO_LAMBDA_AGE_METRIC, logEvent, MalformedJsonError } from "../../consumer/logEvent";
import type { RelayEvent } from "../../consumer/RelayEvent";
import { recordingLogger, recordingMetrics } from "./fakes";
import { relayBatch, sqsRecord } from "./sqsRecord";

const NOW_MS = 1_764_000_010_000;
const RECEIVED_AT_MS = NOW_MS - 1_250;

function refuseFailRecords(seen: RelayEvent[]): OnEvent {
  return (event) => {
    seen.push(event);
    if ((event.json as { fail?: boolean } | undefined)?.fail === true) throw new Error("test handler refuses this record");
  };
}

function handlerFor(onEvent: OnEvent, fifo: boolean, extra: { throwOnFullBatchFailure?: boolean } = {}) {
  const { logger, lines } = recordingLogger();
  const { metrics, added, publishes } = recordingMetrics();
  const handler = createHandler(onEvent, { fifo, logger, metrics, now: () => NOW_MS, ...extra });
  return { handler, lines, added, publishes };
}

describe("createHandler", () => {
  it("standard queue: reports only the failed record and hands every record to the handler decoded", async () => {
    const seen: RelayEvent[] = [];
    const { handler, lines } = handlerFor(refuseFailRecords(seen), false);
    const records = relayBatch(RECEIVED_AT_MS);

    const response = await handler({ Records: records });

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: records[3]!.messageId }] });
    assert.equal(seen.length, 5);
    const byId = new Map(seen.map((event) => [event.messageId, event]));
    assert.deepEqual(byId.get(records[0]!.messageId)!.json, { type: "ticker", product_id: "BTC-USD", price: "97000.01" });
    assert.equal(byId.get(records[1]!.messageId)!.body, "plain text frame");
    assert.deepEqual(byId.get(records[2]!.messageId)!.body, Buffer.from([0x00, 0xff, 0x10, 0x80]));
    assert.deepEqual(lines.filter((line) => line.level === "warn").map((line) => line.attributes.messageId), [records[3]!.messageId]);
  });

  it("FIFO queue: stops at the first failure and reports it and every later record", async () => {
    const seen: RelayEvent[] = [];
    const { handler } = handlerFor(refuseFailRecords(seen), true);
    const records = relayBatch(RECEIVED_AT_MS);

    const response = await handler({ Records: records });

    assert.deepEqual(response.batchItemFailures.map((failure) => failure.itemIdentifier), [records[3]!.messageId, records[4]!.messageId]);
    assert.deepEqual(seen.map((event) => event.seq), [1, 2, 3, 4]);
  });

  it("fails an undecodable record on its own", async () => {
    const { handler, lines } = handlerFor(() => undefined, false);
    const good = sqsRecord({ body: "ok" });
    const bad = sqsRecord({ body: "x", relay: { encoding: "rot13" } });

    const response = await handler({ Records: [good, bad] });

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    assert.equal(lines.find((line) => line.level === "error")?.message, "undecodable record");
  });

  it("throws when every record fails, so the invocation counts as an error; or reports them all when asked", async () => {
    const event: SQSEvent = { Records: [sqsRecord({ body: '{"fail":true}' }), sqsRecord({ body: '{"fail":true}' })] };

    await assert.rejects(handlerFor(refuseFailRecords([]), false).handler(event), FullBatchFailureError);
    const response = await handlerFor(refuseFailRecords([]), false, { throwOnFullBatchFailure: false }).handler(event);
    assert.equal(response.batchItemFailures.length, 2);
  });

  it("with the default logEvent: one log line per event and the feed→Lambda age published once per batch", async () => {
    const { handler, lines, publishes } = handlerFor(logEvent, false);
    const records = relayBatch(RECEIVED_AT_MS);

    const response = await handler({ Records: records });

    assert.deepEqual(response, { batchItemFailures: [] });
    const eventLines = lines.filter((line) => line.level === "info" && line.message === "event");
    assert.deepEqual(new Set(eventLines.map((line) => line.attributes.messageId)), new Set(records.map((record) => record.messageId)));
    assert.ok(eventLines.every((line) => line.attributes.ageMs === 1_250 && line.attributes.connectionId === "conn-1"));
    assert.ok(eventLines.every((line) => !("body" in line.attributes)), "no payload at info");
    assert.equal(publishes.length, 1);
    assert.deepEqual(publishes[0], records.map(() => ({ name: FEED_TO_LAMBDA_AGE_METRIC, unit: "Milliseconds", value: 1_250 })));
  });

  it("with the default logEvent: refuses a body that starts like JSON but does not parse, and only that one", async () => {
    const { handler, lines } = handlerFor(logEvent, false);
    const truncated = sqsRecord({ body: '{"type":"ticker","product_id":"BTC-USD","pri', relay: { receivedAt: RECEIVED_AT_MS } });
    const truncatedArray = sqsRecord({ body: '  [{"type":"ticker"}', relay: { receivedAt: RECEIVED_AT_MS } });
    const fine = [
      sqsRecord({ body: '{"type":"ticker"}' }),
      sqsRecord({ body: "[1,2]" }),
      sqsRecord({ body: "plain text frame" }),
      sqsRecord({ body: Buffer.from("{not json").toString("base64"), relay: { encoding: "base64", frameType: "binary" } }),
    ];

    const response = await handler({ Records: [truncated, ...fine, truncatedArray] });

    assert.deepEqual(
      new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier)),
      new Set([truncated.messageId, truncatedArray.messageId]),
    );
    const warning = lines.find((line) => line.level === "warn" && line.attributes.messageId === truncated.messageId);
    assert.ok(warning?.attributes.error instanceof MalformedJsonError);
    assert.ok(!lines.some((line) => line.message === "event" && line.attributes.messageId === truncated.messageId), "no 'event' line for a refused frame");
  });

  it("publishes the metrics even when the batch throws", async () => {
    const { handler, publishes } = handlerFor((event, tools) => {
      logEvent(event, tools);
      throw new Error("after measuring");
    }, false);

    await assert.rejects(handler({ Records: [sqsRecord({ relay: { receivedAt: RECEIVED_AT_MS } })] }));
    assert.equal(publishes.length, 1);
  });
});
