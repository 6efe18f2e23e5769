import { strict as assert } from "node:assert";
import { runBench } from "../../bench/runBench";

describe("npm run bench (smoke: a tiny run of every scenario, both relays)", function () {
  this.timeout(20_000);

  it("measures every figure for both relays, and ws-relay delivers every frame", async () => {
    // Prepare: a few hundred frames instead of 60,000, sub-second phases instead of 30 s.
    const options = {
      relays: ["ws-relay", "baseline"] as const,
      burstFrames: 500,
      steadyRatePerSecond: 500,
      steadySeconds: 0.6,
      slowRatePerSecond: 20,
      slowSeconds: 0.5,
      outageSeconds: 0.5,
      outageLeadSeconds: 0.2,
      outageTailSeconds: 0.5,
      drainTimeoutSeconds: 2,
    };

    // Act
    const report = await runBench(options);

    // Assess
    assert.equal(report.machine.node, process.version);
    for (const name of options.relays) {
      const result = report.relays[name];
      assert.ok(result, `no figures for ${name}`);
      for (const [label, value] of Object.entries({ ...result.burst, ...result.steady, ...result.slow, ...result.outage })) {
        if (typeof value === "number") assert.ok(Number.isFinite(value), `${name} ${label} is ${value}`);
      }
      assert.equal(result.burst.lost, 0, `${name} lost frames in the burst`);
      assert.ok(result.burst.peakRssMiB > 0 && result.burst.cpuMicrosPerEvent > 0);
    }
    const relay = report.relays["ws-relay"]!;
    assert.equal(relay.outage.lost, 0, "ws-relay lost frames through the outage");
    assert.ok(relay.burst.sqsRequestsPerEvent < 0.5, `ws-relay made ${relay.burst.sqsRequestsPerEvent} SQS requests per event`);
    assert.equal(report.relays.baseline!.burst.sqsRequestsPerEvent, 1, "the baseline makes one SendMessage per frame");
  });
});
