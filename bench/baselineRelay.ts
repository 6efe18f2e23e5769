import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import WebSocket from "ws";

/**
 * The relay most people write first, kept as the benchmark's point of comparison: one
 * SendMessage per frame, fired as the frame arrives (no batching, no bound on calls in flight,
 * no buffer cap), the SDK's default retries, reconnect on close after a fixed second. A call that
 * still fails after the SDK's retries is logged and the frame is lost.
 *
 * Same env names as ws-relay (RELAY_URL, RELAY_QUEUE_URL, AWS_ENDPOINT_URL_SQS), so the bench can
 * start either the same way.
 */
const url = required("RELAY_URL");
const queueUrl = required("RELAY_QUEUE_URL");
const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
// useQueueUrlAsEndpoint: emulator queue URLs name a host that may not resolve (FACTS.md).
const sqs = new SQSClient(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {});
let failed = 0;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`baseline relay: ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

function connect(): void {
  const ws = new WebSocket(url);
  ws.on("message", (data: Buffer) => {
    sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: data.toString("utf8") })).catch((error: Error) => {
      failed++;
      if (failed === 1 || failed % 1000 === 0) process.stderr.write(`baseline relay: send failed (${failed} so far): ${error.name}\n`);
    });
  });
  ws.on("error", () => undefined);
  ws.on("close", () => setTimeout(connect, 1_000));
}

process.on("SIGTERM", () => process.exit(0));
connect();
