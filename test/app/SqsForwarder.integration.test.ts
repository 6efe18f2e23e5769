import { strict as assert } from "node:assert";
import { createLogger } from "../../app/createLogger";
import { createSqsSender } from "../../app/createSqsSender";
import type { FrameRecord } from "../../app/frameRecord";
import { RelayMetrics } from "../../app/RelayMetrics";
import { type BatchAnswer, type BatchSender, SqsForwarder } from "../../app/SqsForwarder";
import type { SqsJsonSender } from "../../app/SqsJsonSender";
import { type Emulator, startEmulator } from "../helpers/emulator";
import "../helpers/relayHarness";
import { recordOf } from "../helpers/frameRecords";
import { waitFor } from "../helpers/waitFor";

/**
 * The real emulator behind a sender that fails chosen entries the way SQS does in a partial
 * failure (HTTP 200 with entries in Failed), which the emulator itself never produces.
 */
class PartialFailures implements BatchSender {
  readonly calls: string[][] = [];
  private readonly failedOnce = new Set<string>();
  constructor(private readonly real: SqsJsonSender) {}

  async sendBatch(queueUrl: string, records: readonly FrameRecord[], timeoutMs: number): Promise<BatchAnswer> {
    this.calls.push(records.map((r) => r.body));
    const refuse = records.filter((r) => r.body.startsWith("poison"));
    const throttle = records.filter((r) => r.body.startsWith("flaky") && !this.failedOnce.has(r.body));
    for (const r of throttle) this.failedOnce.add(r.body);
    const rest = records.filter((r) => !refuse.includes(r) && !throttle.includes(r));
    const output = rest.length ? await this.real.sendBatch(queueUrl, rest, timeoutMs) : { Successful: [], Failed: [] };
    // The real call numbered `rest`; answer with the ids of the whole batch.
    const id = (restId: string | undefined): string => String(records.indexOf(rest[Number(restId)]!));
    const idOf = (record: FrameRecord): string => String(records.indexOf(record));
    return {
      Successful: (output.Successful ?? []).map((ok) => ({ ...ok, Id: id(ok.Id) })),
      Failed: [
        ...(output.Failed ?? []).map((failed) => ({ ...failed, Id: id(failed.Id) })),
        ...refuse.map((r) => ({ Id: idOf(r), SenderFault: true, Code: "InvalidParameterValue", Message: "refused" })),
        ...throttle.map((r) => ({ Id: idOf(r), SenderFault: false, Code: "ThrottlingException", Message: "slow down" })),
      ],
    };
  }
}

describe("SqsForwarder (integration: fauxqs, partial batch failures)", () => {
  let emulator: Emulator;
  before(async () => (emulator = await startEmulator()));
  after(() => emulator.stop());

  it("retries failed entries on their own with every field kept, and drops sender faults without holding up the rest", async () => {
    const queueUrl = emulator.createQueue("partial");
    const real = createSqsSender({ endpoint: emulator.endpoint, maxSockets: 4 });
    const sender = new PartialFailures(real);
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger("info", { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const metrics = new RelayMetrics({ connected: () => true, bufferBytes: () => 0, inFlightCalls: () => 0, paused: () => false }, { defaultMetrics: false });
    const forwarder = new SqsForwarder({ client: sender, queueUrl, fifo: false, maxInFlight: 1, maxBufferBytes: 1 << 20, sqsTimeoutMs: 2_000, retryMinMs: 10, retryMaxMs: 20, logger, metrics });
    const bodies = ["ok-1", "flaky-2", "poison-3", "ok-4", "flaky-5", "ok-6"];
    bodies.forEach((body, i) => forwarder.push(recordOf(body, { receivedAtMs: 1_700_000_000_000 + i, seq: i + 1, connectionId: "c-1" })));
    assert.equal(await forwarder.flush(Date.now() + 5_000), 0, "nothing left undelivered");
    forwarder.close();
    real.destroy();

    const stored = emulator.messages("partial");
    assert.deepEqual(stored.map((m) => m.body).sort(), ["flaky-2", "flaky-5", "ok-1", "ok-4", "ok-6"]);
    const flaky = stored.find((m) => m.body === "flaky-5")!;
    assert.deepEqual(flaky.attributes, { "relay.receivedAt": "1700000000004", "relay.seq": "5", "relay.connectionId": "c-1" }, "the retry kept every attribute");
    const withFlaky = sender.calls.filter((call) => call.includes("flaky-2"));
    assert.equal(withFlaky.length, 2, "a failed entry is sent once more");
    assert.deepEqual(withFlaky[1], ["flaky-2", "flaky-5"], "the retry carries only what failed");
    assert.equal(sender.calls.filter((call) => call.includes("poison-3")).length, 1, "a sender fault is never sent again");
    const text = await metrics.registry.metrics();
    assert.match(text, /relay_frames_dropped_total\{reason="sender_fault"\} 1/);
    assert.match(text, /relay_sqs_retried_entries_total 2/);
    assert.ok(logs.some((l) => l.seq === 3 && l.code === "InvalidParameterValue"), "the dropped entry is logged");
  });

  it("sends a lone frame at once and fills batches while calls are in flight", async () => {
    const queueUrl = emulator.createQueue("batching");
    const real = createSqsSender({ endpoint: emulator.endpoint, maxSockets: 4 });
    const sender = new PartialFailures(real);
    const logger = createLogger("silent");
    const metrics = new RelayMetrics({ connected: () => true, bufferBytes: () => 0, inFlightCalls: () => 0, paused: () => false }, { defaultMetrics: false });
    const forwarder = new SqsForwarder({ client: sender, queueUrl, fifo: false, maxInFlight: 2, maxBufferBytes: 1 << 24, sqsTimeoutMs: 2_000, logger, metrics });
    const push = (i: number): void => void forwarder.push(recordOf(`m${i}`, { seq: i, connectionId: "c" }));
    push(0);
    assert.equal(sender.calls.length, 1, "the first frame went out without waiting");
    await waitFor("first call done", () => forwarder.pendingCount === 0);
    for (let i = 1; i <= 1_000; i++) push(i);
    await forwarder.flush(Date.now() + 10_000);
    forwarder.close();
    real.destroy();
    assert.equal(emulator.messages("batching").length, 1_001);
    const calls = sender.calls.length - 1;
    assert.ok(calls <= 105, `a burst of 1000 frames took ${calls} calls`);
  });
});
