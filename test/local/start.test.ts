import assert from "node:assert/strict";
import { waitFor } from "../helpers/waitFor";
import { lastStatus, type LocalProcess, runLocal } from "./localProcess";

describe("npm start (local pipeline, integration)", function () {
  this.timeout(30_000);
  let pipeline: LocalProcess | undefined;

  afterEach(async () => {
    pipeline?.kill();
    await pipeline?.exited;
    pipeline = undefined;
  });

  it("with the demo feed: events are consumed, the poison message reaches the DLQ, the relay reconnects; SIGINT stops in order with a summary and exit 0", async () => {
    // Prepare: short demo intervals, 1 s visibility and no batching window so retries come quickly.
    pipeline = runLocal("start", [
      "--sqs-port", "0",
      "--demo-hangup-ms", "1500",
      "--demo-poison-ms", "400",
      "--visibility-timeout-seconds", "1",
      "--batching-window-seconds", "0",
      "--batch-size", "10",
      "--status-interval-ms", "200",
    ]);
    const p = pipeline;

    // Act: let it run until it has shown all three things a newcomer should see.
    await waitFor(
      "consumed > 0, dlq ≥ 1 and reconnects ≥ 1 in the status line",
      () => {
        const status = lastStatus(p.output());
        return Number(status.consumed) > 0 && Number(status.dlq) >= 1 && Number(status.reconnects) >= 1;
      },
      20_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- stdout ---\n${p.output()}\n--- stderr ---\n${p.stderr()}`);
    });
    p.child.kill("SIGINT");
    const code = await p.exited;

    // Assess
    const output = p.output();
    assert.equal(code, 0, `exit code; stderr: ${p.stderr()}`);
    assert.match(output, /moved to the DLQ after 3 failed receives/);
    assert.match(output, /the relay reconnected to the feed/);
    const stopping = output.indexOf("Ctrl-C: stopping the relay");
    const relayExited = output.indexOf("relay exited with code 0; draining");
    const summary = output.indexOf("summary (ran");
    assert.ok(stopping >= 0 && stopping < relayExited && relayExited < summary, "relay first, then the runner, then the summary");
    const consumed = Number(/consumer +invocations \d+, consumed (\d+)/.exec(output)?.[1]);
    assert.ok(consumed > 0, "summary counts consumed events");
    assert.match(output, /DLQ [1-9]\d*/);
    assert.match(output, /relay .* exit code 0/);
  });

  it("refuses a bad flag with a message naming it and exit code 2", async () => {
    pipeline = runLocal("start", ["--visibility-timeout-seconds", "soon"]);

    const code = await pipeline.exited;

    assert.equal(code, 2);
    assert.match(pipeline.stderr(), /--visibility-timeout-seconds: expected a whole number .* got "soon"/);
  });
});
