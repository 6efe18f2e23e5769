import { strict as assert } from "node:assert";
import { type FrameContext, type FrameRecord, frameToRecord } from "../../app/frameRecord";

/**
 * A frame as the relay holds it, made by the relay's own frameToRecord: text from a string,
 * binary from a Buffer. `context` overrides a standard-queue default context.
 */
export function recordOf(frame: string | Buffer, context: Partial<FrameContext> = {}): FrameRecord {
  const outcome = frameToRecord(typeof frame === "string" ? Buffer.from(frame) : frame, typeof frame !== "string", {
    receivedAtMs: Date.now(),
    seq: 1,
    connectionId: "c-1",
    fifo: false,
    messageGroupId: undefined,
    dedupId: undefined,
    ...context,
  });
  assert.equal(outcome.kind, "record", `the frame became ${outcome.kind}, not a record`);
  return (outcome as { record: FrameRecord }).record;
}
