// The SDK's notice about Node 20 (the deploy targets 22) is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import assert from "node:assert/strict";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LocalQueues } from "../../local/LocalQueues";
import { LOCAL_AWS_ENV } from "../../local/localAws";
import { runLocal } from "./localProcess";

describe("npm run dlq (against the emulator, integration)", function () {
  this.timeout(20_000);
  let queues: LocalQueues;
  let sqs: SQSClient;

  beforeEach(async () => {
    queues = await LocalQueues.start({ port: 0, visibilityTimeoutSeconds: 5, maxReceiveCount: 3, queueName: "orders", dlqName: "orders-dlq" });
    sqs = new SQSClient({
      region: LOCAL_AWS_ENV.AWS_REGION,
      endpoint: queues.endpoint,
      useQueueUrlAsEndpoint: false,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.dlq.url,
        Entries: [
          { Id: "a", MessageBody: '{"type":"ticker","seq', MessageAttributes: { "relay.seq": { DataType: "Number", StringValue: "41" } } },
          { Id: "b", MessageBody: "[1,2", MessageAttributes: { "relay.seq": { DataType: "Number", StringValue: "42" } } },
        ],
      }),
    );
  });

  afterEach(async () => {
    sqs.destroy();
    await queues.stop();
  });

  const where = (): string[] => ["--endpoint", queues.endpoint, "--queue", "orders-dlq"];

  it("list prints every message with its relay attributes and leaves them in the DLQ, visible", async () => {
    const run = runLocal("dlq", ["list", ...where()]);

    const code = await run.exited;

    assert.equal(code, 0, run.stderr());
    assert.match(run.output(), /seq=41\n {2}\{"type":"ticker","seq\n/);
    assert.match(run.output(), /seq=42\n {2}\[1,2\n/);
    assert.match(run.stderr(), /2 message\(s\) in orders-dlq/);
    assert.deepEqual(queues.depth(queues.dlq), { visible: 2, inFlight: 0, delayed: 0 });
  });

  it("redrive moves them back to the queue whose redrive policy names the DLQ, attributes kept", async () => {
    const run = runLocal("dlq", ["redrive", ...where()]);

    const code = await run.exited;

    assert.equal(code, 0, run.stderr());
    assert.match(run.output(), /moved 2 message\(s\) from orders-dlq to orders/);
    assert.equal(queues.depth(queues.dlq).visible + queues.depth(queues.dlq).inFlight, 0);
    const list = runLocal("dlq", ["list", "--json", "--endpoint", queues.endpoint, "--queue", "orders"]);
    assert.equal(await list.exited, 0, list.stderr());
    const moved = list.output().trim().split("\n").map((line) => JSON.parse(line) as { body: string; messageAttributes: Record<string, string> });
    assert.deepEqual(moved.map((m) => m.messageAttributes["relay.seq"]).sort(), ["41", "42"]);
  });

  it("names the queue when it does not exist", async () => {
    const run = runLocal("dlq", ["list", "--endpoint", queues.endpoint, "--queue", "no-such-dlq"]);

    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), /no queue named no-such-dlq at http:\/\/127\.0\.0\.1:\d+/);
  });

  it("says what to do when AWS credentials are missing", async () => {
    const run = runLocal("dlq", ["list", "--aws", "--queue", "ws-relay-dev-dlq"], {
      AWS_REGION: "eu-west-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/nonexistent/config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
    });

    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), /no AWS credentials found: set AWS_PROFILE/);
  });

  it("says when nothing answers at the endpoint", async () => {
    const endpoint = queues.endpoint;
    await queues.stop();
    queues = await LocalQueues.start({ port: 0, visibilityTimeoutSeconds: 5, maxReceiveCount: 3 });
    const run = runLocal("dlq", ["list", "--endpoint", endpoint]);

    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), /nothing answers at http:\/\/127\.0\.0\.1:\d+: start the pipeline with npm start/);
  });
});
