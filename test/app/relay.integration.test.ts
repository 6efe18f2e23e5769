import { strict as assert } from "node:assert";
import { type FeedClient, FeedServer } from "../helpers/feedServer";
import { type InProcessRelay, startRelay } from "../helpers/relayHarness";
import { useSqsTestbed } from "../helpers/sqsTestbed";
import { sleep, waitFor } from "../helpers/waitFor";

describe("relay (integration: real ws feed, fauxqs behind a TCP proxy)", function () {
  this.timeout(60_000);
  const testbed = useSqsTestbed("relay-test");
  let feed: FeedServer | undefined;
  let relay: InProcessRelay | undefined;
  afterEach(async () => {
    await relay?.stop(2_000);
    await feed?.close();
    relay = undefined;
    feed = undefined;
  });
  const newQueue = (attributes?: Record<string, string>): { name: string; url: string } => testbed.newQueue(attributes);

  function baseEnv(queueUrl: string, feedUrl: string): Record<string, string> {
    return {
      RELAY_URL: feedUrl,
      RELAY_QUEUE_URL: queueUrl,
      AWS_ENDPOINT_URL_SQS: testbed.proxy.endpoint,
      RELAY_RECONNECT_MIN_MS: "20",
      RELAY_RECONNECT_MAX_MS: "200",
      RELAY_SQS_TIMEOUT_MS: "3000", // generous: a slow machine must not turn into timeouts and duplicate retries
    };
  }

  it("sends the subscribe messages in order after the first connect and after every reconnect", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay({ ...baseEnv(queue.url, feed.url), RELAY_SUBSCRIBE: JSON.stringify([{ type: "subscribe", channels: ["ticker"] }, "plain text"]) });
    const expected = ['{"type":"subscribe","channels":["ticker"]}', "plain text"];
    for (let n = 1; n <= 3; n++) {
      const client: FeedClient = await feed.connection(n);
      await waitFor(`subscribe messages on connection ${n}`, () => client.received.length >= 2);
      assert.deepEqual(client.received, expected);
      client.socket.terminate();
    }
    assert.equal(await relay.metric("relay_reconnects_total"), 2);
  });

  it("loses nothing when the feed hangs up again and again", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay(baseEnv(queue.url, feed.url));
    const sent: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const client: FeedClient = await feed.connection(n);
      for (let i = 0; i < 250; i++) {
        const body = JSON.stringify({ connection: n, i });
        sent.push(body);
        client.socket.send(body);
      }
      client.socket.close(1000, "bye");
    }
    await waitFor("every frame in the queue", () => testbed.emulator.messages(queue.name).length >= sent.length);
    const bodies = testbed.emulator.messages(queue.name).map((m) => m.body);
    assert.deepEqual([...bodies].sort(), [...sent].sort());
  });

  it("loses nothing through a 3 s SQS outage", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay(baseEnv(queue.url, feed.url));
    const client = await feed.connection(1);
    const sent: string[] = [];
    const send = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const body = `frame ${sent.length}`;
        sent.push(body);
        client.socket.send(body);
      }
    };
    send(100);
    await waitFor("first frames in the queue", () => testbed.emulator.messages(queue.name).length === 100);
    testbed.proxy.setMode("refuse");
    const outageEndsAt = Date.now() + 3_000;
    while (Date.now() < outageEndsAt) {
      send(20);
      await sleep(100);
    }
    assert.equal(testbed.emulator.messages(queue.name).length, 100, "nothing can arrive while SQS is cut off");
    testbed.proxy.setMode("pass");
    send(100);
    await waitFor("every frame in the queue", () => testbed.emulator.messages(queue.name).length >= sent.length, 20_000);
    assert.deepEqual(testbed.emulator.messages(queue.name).map((m) => m.body).sort(), [...sent].sort());
    assert.ok((await relay.metric("relay_sqs_retried_entries_total")) > 0, "the outage was retried");
    assert.equal(await relay.metric("relay_messages_enqueued_total"), sent.length);
  });

  it("replaces a peer that stops answering pings, and keeps one that answers", async () => {
    const silent = await FeedServer.start({ autoPong: false });
    feed = silent;
    const queue = newQueue();
    relay = await startRelay({ ...baseEnv(queue.url, silent.url), RELAY_PING_INTERVAL_MS: "200" });
    await silent.connection(1);
    const second = await silent.connection(2, 3_000);
    assert.ok(second, "a second connection replaced the silent one");
    assert.ok(relay.logs.some((l) => String(l.msg).includes("no pong")), "the reason is logged");
    await relay.stop();

    const lively = await FeedServer.start();
    relay = await startRelay({ ...baseEnv(queue.url, lively.url), RELAY_PING_INTERVAL_MS: "200" });
    await lively.connection(1);
    await sleep(1_500);
    assert.equal(lively.clients.length, 1, "a peer that answers pings is not replaced");
    await lively.close();
  });

  it("reconnects when no frame arrives within RELAY_IDLE_TIMEOUT_MS", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay({ ...baseEnv(queue.url, feed.url), RELAY_IDLE_TIMEOUT_MS: "300" });
    await feed.connection(1);
    await feed.connection(2, 3_000);
    assert.ok(relay.logs.some((l) => String(l.msg).includes("idle timeout")));
  });

  it("handles binary, empty, non-JSON, invalid-character and oversized frames", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay(baseEnv(queue.url, feed.url));
    const client = await feed.connection(1);
    const binary = Buffer.from([0, 1, 2, 255, 254]);
    const nearLimit = "x".repeat(1_048_576 - 200);
    client.socket.send(binary, { binary: true });
    client.socket.send("");
    client.socket.send("not json at all");
    client.socket.send("bell\u0007 and null\u0000");
    client.socket.send("y".repeat(1_048_577));
    client.socket.send(nearLimit);
    client.socket.send('{"last":true}');
    await waitFor("five messages", () => testbed.emulator.messages(queue.name).length >= 5);
    await sleep(200);
    const messages = testbed.emulator.messages(queue.name);
    assert.equal(messages.length, 5, "everything but the empty and the oversized frame");
    const byBody = new Map(messages.map((m) => [m.body, m]));

    const bin = byBody.get(binary.toString("base64"));
    assert.ok(bin, "binary frame arrives base64-encoded");
    assert.equal(bin.attributes["relay.encoding"], "base64");
    assert.equal(bin.attributes["relay.frameType"], "binary");

    assert.ok(byBody.has("not json at all"), "non-JSON text goes verbatim");
    assert.equal(byBody.get("not json at all")!.attributes["relay.encoding"], undefined);

    const invalid = byBody.get(Buffer.from("bell\u0007 and null\u0000").toString("base64"));
    assert.ok(invalid, "text with characters SQS refuses arrives base64-encoded");
    assert.equal(invalid.attributes["relay.frameType"], "text");

    assert.ok(byBody.has(nearLimit), "a frame just under 1 MiB with its attributes is delivered");
    assert.ok(byBody.has('{"last":true}'), "frames after the bad ones still flow");

    for (const message of messages) {
      assert.match(message.attributes["relay.receivedAt"] ?? "", /^\d{13}$/);
      assert.match(message.attributes["relay.seq"] ?? "", /^\d+$/);
      assert.match(message.attributes["relay.connectionId"] ?? "", /^[0-9a-f-]{36}$/);
    }
    assert.equal(await relay.metric("relay_frames_dropped_total", 'reason="empty"'), 1);
    assert.equal(await relay.metric("relay_frames_dropped_total", 'reason="too_large"'), 1);
    const warning = relay.logs.find((l) => l.limitBytes === 1_048_576);
    assert.ok(warning, "the oversized frame is logged with the limit");
    assert.ok(Number(warning.sizeBytes) > 1_048_577);
    assert.match(String(warning.msg), /exceeds the SQS limit of 1048576 bytes/);
  });

  it("keeps the buffer bounded while SQS is away, then delivers everything", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    const maxBufferBytes = 256 * 1024;
    relay = await startRelay({ ...baseEnv(queue.url, feed.url), RELAY_MAX_BUFFER_BYTES: String(maxBufferBytes) });
    const client = await feed.connection(1);
    await waitFor("ready", () => relay!.relay.ready);
    testbed.proxy.setMode("hang");
    const frame = "z".repeat(1_000);
    const total = 20_000; // 20 MB: far more than the buffer and the kernel's socket buffers
    for (let i = 0; i < total; i++) client.socket.send(`${String(i).padStart(6, "0")}${frame}`);
    let maxSeen = 0;
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, relay!.relay.bufferedBytes)), 1);
    try {
      await waitFor("the relay to pause", async () => (await relay!.metric("relay_paused")) === 1);
      await sleep(1_000);
      const received = await relay.metric("relay_frames_received_total", 'type="text"');
      assert.ok(received < total / 2, `reading paused: ${received} of ${total} frames read while SQS hangs`);
      assert.ok(client.socket.bufferedAmount > 1_000_000, "the feed sees the backpressure");
      testbed.proxy.setMode("pass");
      await waitFor("every frame in the queue", () => testbed.emulator.messages(queue.name).length >= total, 40_000, 200);
    } finally {
      clearInterval(sampler);
    }
    // The cap is checked after each frame; ws may still hand over what it already read (≤ 64 KiB).
    assert.ok(maxSeen <= maxBufferBytes + 128 * 1024, `buffer peaked at ${maxSeen} bytes, cap ${maxBufferBytes}`);
    const bodies = new Set(testbed.emulator.messages(queue.name).map((m) => m.body.slice(0, 6)));
    assert.equal(bodies.size, total, "every frame arrived exactly once");
  });

  it("reports readiness, liveness and metrics", async () => {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = await startRelay({ ...baseEnv(queue.url, feed.url), RELAY_UNHEALTHY_AFTER_MS: "1000", RELAY_RECONNECT_MIN_MS: "5000", RELAY_RECONNECT_MAX_MS: "5000" });
    const client = await feed.connection(1);
    await waitFor("ready", async () => (await fetch(`${relay!.healthUrl}/readyz`)).status === 200);
    assert.equal((await fetch(`${relay.healthUrl}/healthz`)).status, 200);
    for (let i = 0; i < 5; i++) client.socket.send(`{"i":${i}}`);
    await waitFor("five enqueued", async () => (await relay!.metric("relay_messages_enqueued_total")) === 5);
    const text = await relay.metricsText();
    assert.match(text, /relay_connected 1/);
    assert.match(text, /relay_frames_received_total\{type="text"\} 5/);
    assert.match(text, /relay_sqs_batch_size_count \d+/);
    assert.match(text, /relay_sqs_call_duration_seconds_count\{outcome="ok"\} \d+/);
    assert.match(text, /relay_buffer_bytes 0/);

    const lostAt = Date.now();
    client.socket.terminate();
    await waitFor("not ready", async () => (await fetch(`${relay!.healthUrl}/readyz`)).status === 503, 1_000, 10);
    assert.ok(Date.now() - lostAt < 1_000);
    assert.match(await relay.metricsText(), /relay_connected 0/);
    assert.equal((await fetch(`${relay.healthUrl}/healthz`)).status, 200, "a short disconnection is still healthy");
    await waitFor("unhealthy after a long disconnection", async () => (await fetch(`${relay!.healthUrl}/healthz`)).status === 503, 3_000);
  });

  it("sets the FIFO group and dedup ids from pointers into each frame", async () => {
    feed = await FeedServer.start();
    const queue = newQueue({ FifoQueue: "true" });
    relay = await startRelay({ ...baseEnv(queue.url, feed.url), RELAY_MESSAGE_GROUP_ID: "/product_id", RELAY_DEDUP_ID: "/sequence" });
    const client = await feed.connection(1);
    client.socket.send(JSON.stringify({ product_id: "BTC-USD", sequence: 1 }));
    client.socket.send(JSON.stringify({ product_id: "ETH-USD", sequence: 2 }));
    client.socket.send(JSON.stringify({ product_id: "BTC-USD", sequence: 1 })); // a duplicate
    client.socket.send("no json here");
    await waitFor("three messages", () => testbed.emulator.messages(queue.name).length >= 3);
    await sleep(300);
    const messages = testbed.emulator.messages(queue.name);
    assert.deepEqual(
      messages.map((m) => [m.groupId, m.dedupId]),
      [
        ["BTC-USD", "1"],
        ["ETH-USD", "2"],
        ["ws-relay", `${messages[2]!.attributes["relay.connectionId"]}:4`],
      ],
    );
  });
});
