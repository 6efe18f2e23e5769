import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BinanceSimulator, CoinbaseSimulator, JetstreamSimulator, SlackSimulator } from "../helpers/feedSimulators";
import { type InProcessRelay, type RelayProcess, spawnRelay, startRelay } from "../helpers/relayHarness";
import { useSqsTestbed } from "../helpers/sqsTestbed";
import { sleep, waitFor } from "../helpers/waitFor";

describe("feed lifecycle (integration: feed simulators, fauxqs)", function () {
  this.timeout(60_000);
  const testbed = useSqsTestbed("lifecycle");
  let relay: InProcessRelay | undefined;
  let child: RelayProcess | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    await relay?.stop(2_000);
    relay = undefined;
    child?.kill();
    await child?.exited;
    child = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const newQueue = (): { name: string; url: string } => testbed.newQueue();

  const sqsEnv = (queueUrl: string): Record<string, string> => ({
    RELAY_QUEUE_URL: queueUrl,
    AWS_ENDPOINT_URL_SQS: testbed.proxy.endpoint,
    RELAY_RECONNECT_MIN_MS: "20",
    RELAY_RECONNECT_MAX_MS: "200",
    RELAY_SQS_TIMEOUT_MS: "3000", // generous: a slow machine must not turn into timeouts and duplicate retries
  });

  const bodiesOf = (queue: string): Array<Record<string, unknown>> => testbed.emulator.messages(queue).map((m) => JSON.parse(m.body) as Record<string, unknown>);

  describe("Slack Socket Mode (preset slack)", () => {
    it("opens a fresh single-use URL for every connect, acks only what SQS accepted, and rotates make-before-break on `disconnect`", async () => {
      const slack = await SlackSimulator.start();
      cleanups.push(() => slack.close());
      const queue = newQueue();
      // What the queue held each time an ack arrived: an ack must never precede its message.
      const ackedBeforeQueued: string[] = [];
      slack.onAck = (id) => {
        if (!testbed.emulator.messages(queue.name).some((m) => m.body.includes(`"envelope_id":"${id}"`))) ackedBeforeQueued.push(id);
      };
      relay = await startRelay({
        ...sqsEnv(queue.url),
        RELAY_PRESET: "slack",
        RELAY_FETCH_URL: slack.openUrl,
        RELAY_FETCH_HEADERS: JSON.stringify({ Authorization: `Bearer ${slack.appToken}` }),
      });
      await waitFor("connected", () => relay!.relay.ready);
      for (let i = 1; i <= 20; i++) slack.sendEnvelope(`e${i}`);
      await waitFor("acks for the first envelopes", () => slack.acks.length >= 20);

      // SQS stops answering: envelopes keep coming, but none may be acked.
      testbed.proxy.setMode("hang");
      for (let i = 21; i <= 30; i++) slack.sendEnvelope(`e${i}`);
      await sleep(1_500);
      assert.equal(slack.acks.filter((a) => Number(a.id.slice(1)) > 20).length, 0, "no ack while SQS has not accepted the frame");

      // Slack asks for a new connection while the relay is still catching up.
      slack.sendDisconnect();
      await waitFor("a second connection", () => slack.connections.length >= 2);
      testbed.proxy.setMode("pass");
      await waitFor("the old connection closed", () => slack.connections[0]!.closedAt !== undefined, 10_000);
      for (let i = 31; i <= 40; i++) slack.sendEnvelope(`e${i}`);
      await waitFor("every envelope acked", () => [...slack.envelopes.values()].every((e) => e.ackedAt !== undefined), 15_000);

      const [first, second] = slack.connections;
      assert.ok(second!.openedAt <= first!.closedAt!, "the new connection was open before the old one closed");
      assert.deepEqual(slack.opened, ["t1", "t2"], "one apps.connections.open call per connect");
      assert.deepEqual(slack.reusedTicketRefused, [], "no URL was used twice");
      assert.deepEqual(ackedBeforeQueued, [], "every ack came after its frame was in SQS");
      const ids = bodiesOf(queue.name).map((b) => b.envelope_id);
      assert.equal(ids.length, 40, "no loss, no duplicates (redeliveries dropped by envelope_id)");
      assert.equal(new Set(ids).size, 40);
      assert.ok(!testbed.emulator.messages(queue.name).some((m) => m.body.includes('"type":"hello"') || m.body.includes('"type":"disconnect"')), "control frames stay out of the queue");
      assert.equal(await relay.metric("relay_rotations_total"), 1);
    });
  });

  describe("Bluesky Jetstream (preset jetstream)", () => {
    function assertExactlyOnce(queue: string, jetstream: JetstreamSimulator): void {
      const times = bodiesOf(queue).map((b) => b.time_us as number);
      assert.equal(new Set(times).size, times.length, `no duplicates (${times.length - new Set(times).size} found)`);
      const first = Math.min(...times);
      const expected = jetstream.events.filter((e) => e.time_us >= first).map((e) => e.time_us);
      const missing = expected.filter((t) => !times.includes(t));
      assert.deepEqual(missing, [], `no loss: ${missing.length} of ${expected.length} events missing`);
    }

    it("resumes from the cursor after reconnects and rotations with no loss and no duplicates", async () => {
      const jetstream = await JetstreamSimulator.start();
      cleanups.push(() => jetstream.close());
      const queue = newQueue();
      relay = await startRelay({ ...sqsEnv(queue.url), RELAY_PRESET: "jetstream", RELAY_URL: jetstream.url, RELAY_MAX_CONNECTION_AGE_MS: "700" });
      await waitFor("connected", () => relay!.relay.ready);
      await sleep(500);
      for (let i = 0; i < 3; i++) {
        jetstream.open.at(-1)?.terminate(); // a dropped connection
        await sleep(400);
      }
      await sleep(1_000);
      jetstream.pause();
      const total = jetstream.events.length;
      await waitFor("the queue settles", () => relay!.relay.resumeCursor === String(jetstream.events.at(-1)!.time_us), 10_000);
      assert.equal(jetstream.cursors[0], null, "the first connect has no cursor");
      assert.ok(jetstream.cursors.slice(1).every((c) => c !== null), "every reconnect resumes from a cursor");
      assert.ok((await relay.metric("relay_rotations_total")) >= 1, "rotated by age");
      assert.ok((await relay.metric("relay_frames_dropped_total", 'reason="duplicate"')) > 0, "the rewound overlap was dropped");
      assertExactlyOnce(queue.name, jetstream);
      assert.ok(total > 500);
    });

    it("persists the cursor and resumes across a restart of the relay process", async () => {
      const jetstream = await JetstreamSimulator.start();
      cleanups.push(() => jetstream.close());
      const dir = mkdtempSync(path.join(tmpdir(), "ws-relay-cursor-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const cursorFile = path.join(dir, "cursor");
      const queue = newQueue();
      const env = { ...sqsEnv(queue.url), RELAY_PRESET: "jetstream", RELAY_URL: jetstream.url, RELAY_CURSOR_FILE: cursorFile, RELAY_CURSOR_SAVE_INTERVAL_MS: "100" };
      child = spawnRelay(env);
      await waitFor("frames in the queue", () => testbed.emulator.messages(queue.name).length > 200, 15_000);
      child.child.kill("SIGTERM");
      assert.equal((await child.exited).code, 0);
      const saved = readFileSync(cursorFile, "utf8").trim();
      const newest = Math.max(...bodiesOf(queue.name).map((b) => b.time_us as number));
      assert.equal(saved, String(newest), "the saved cursor is the newest frame in SQS");
      await sleep(500); // events the relay never saw while it was down

      child = spawnRelay(env);
      await waitFor("the restarted relay catches up", () => Math.max(...bodiesOf(queue.name).map((b) => b.time_us as number)) > newest + 1_000_000, 15_000);
      jetstream.pause();
      await sleep(500);
      child.child.kill("SIGTERM");
      assert.equal((await child.exited).code, 0);
      assert.equal(jetstream.cursors[1], String(Number(saved) - 3_000_000), "resumed from the saved cursor, rewound 3 s");
      const lastSaved = readFileSync(cursorFile, "utf8").trim();
      const times = bodiesOf(queue.name).map((b) => b.time_us as number);
      const firstRelayed = Math.min(...times);
      const upTo = jetstream.events.filter((e) => e.time_us >= firstRelayed && e.time_us <= Number(lastSaved));
      const missing = upTo.filter((e) => !times.includes(e.time_us));
      assert.deepEqual(missing.map((e) => e.time_us), [], "nothing lost across the restart");
      assert.equal(new Set(times).size, times.length, "nothing doubled across the restart");
    });
  });

  describe("Binance user data (preset binance)", () => {
    const binanceEnv = (binance: BinanceSimulator, queueUrl: string, apiKey: string): Record<string, string> => ({
      ...sqsEnv(queueUrl),
      RELAY_PRESET: "binance",
      RELAY_FETCH_URL: binance.restUrl,
      RELAY_FETCH_HEADERS: JSON.stringify({ "X-MBX-APIKEY": apiKey }),
      RELAY_URL: `ws://${binance.origin}/ws/{{token}}`,
    });

    it("fetches a fresh listenKey per connect, keeps it alive, and rotates before the server's hang-up with nothing lost or doubled", async () => {
      const binance = await BinanceSimulator.start(1_500);
      cleanups.push(() => binance.close());
      const queue = newQueue();
      relay = await startRelay({
        ...binanceEnv(binance, queue.url, binance.apiKey),
        RELAY_KEEPALIVE_URL: `${binance.restUrl}?listenKey={{token}}`,
        RELAY_KEEPALIVE_INTERVAL_MS: "1000",
        RELAY_MAX_CONNECTION_AGE_MS: "1000",
        RELAY_DEDUP_POINTER: "/E",
      });
      await waitFor("connected", () => relay!.relay.ready);
      const firstEvent = binance.eventsSent.length + 1;
      await sleep(3_500);
      binance.pause();
      const lastEvent = binance.eventsSent.at(-1)!;
      await waitFor("every event in the queue", () => testbed.emulator.messages(queue.name).length >= lastEvent - firstEvent + 1, 10_000);
      await sleep(300);
      const ids = bodiesOf(queue.name).map((b) => b.E as number);
      assert.equal(new Set(ids).size, ids.length, "nothing doubled across rotations");
      for (let id = firstEvent; id <= lastEvent; id++) assert.ok(ids.includes(id), `event ${id} lost`);
      assert.ok(binance.pathsConnected.length >= 3, "rotated before each 1.5 s hang-up");
      assert.deepEqual(
        binance.pathsConnected,
        binance.keysIssued.slice(0, binance.pathsConnected.length).map((k) => `/ws/${k}`),
        "each connection used the listenKey fetched just before it",
      );
      assert.ok(binance.keepAlives.length >= 2 && binance.keepAlives.every((k) => binance.keysIssued.includes(k)), "the key is kept alive");
      assert.ok(binance.connections.slice(0, -1).every((c, i) => binance.connections[i + 1]!.openedAt <= c.closedAt!), "make-before-break: no gap between connections");
    });

    it("retries the fetch with backoff when the REST call fails, without dying", async () => {
      const binance = await BinanceSimulator.start(60_000);
      cleanups.push(() => binance.close());
      const queue = newQueue();
      relay = await startRelay(binanceEnv(binance, queue.url, "wrong-key"));
      await waitFor("several failed fetches", async () => (await relay!.metric("relay_fetch_failures_total")) >= 3);
      assert.ok(relay.logs.some((l) => String(l.err).includes("answered HTTP 401")));
      assert.ok(!JSON.stringify(relay.logs).includes("wrong-key"), "fetch headers are never logged");
      assert.equal(binance.connections.length, 0);
    });
  });

  describe("Coinbase Exchange (preset coinbase)", () => {
    it("subscribes in time, counts a sequence gap per product, and keeps heartbeats out of the queue", async () => {
      const coinbase = await CoinbaseSimulator.start({ subscribeDeadlineMs: 1_000, perMessageDeflate: true });
      cleanups.push(() => coinbase.close());
      const queue = newQueue();
      relay = await startRelay({
        ...sqsEnv(queue.url),
        RELAY_PRESET: "coinbase",
        RELAY_URL: coinbase.url,
        RELAY_SEQUENCE_POINTER: "/sequence",
        RELAY_SEQUENCE_KEY_POINTER: "/product_id",
        RELAY_SUBSCRIBE: JSON.stringify([{ type: "subscribe", product_ids: ["BTC-USD", "ETH-USD"], channels: ["heartbeat", "ticker"] }]),
        RELAY_IDLE_TIMEOUT_MS: "1000",
      });
      await waitFor("tickers flowing", () => testbed.emulator.messages(queue.name).length >= 10);
      coinbase.skipNext.add("BTC-USD");
      await sleep(300);
      coinbase.pause();
      await waitFor("every ticker in the queue", () => testbed.emulator.messages(queue.name).length >= coinbase.tickersSent.length);
      assert.equal(coinbase.connections.length, 1, "subscribed within the deadline, so never hung up on");
      assert.match(String(coinbase.sockets[0]!.extensions), /permessage-deflate/, "compression negotiated");
      const types = new Set(bodiesOf(queue.name).map((b) => b.type));
      assert.deepEqual([...types], ["ticker"], "heartbeats and the subscriptions reply are not forwarded");
      assert.equal(await relay.metric("relay_sequence_gaps_total"), 1);
      assert.equal(await relay.metric("relay_sequence_missing_total"), 1);
      const warning = relay.logs.find((l) => l.msg === "sequence gap: the feed skipped messages");
      assert.ok(warning && warning.key === "BTC-USD" && warning.missing === 1, "the gap is logged with its product");
      assert.ok((await relay.metric("relay_frames_dropped_total", 'reason="filtered"')) >= coinbase.heartbeatsSent);
    });
  });

  describe("generic settings", () => {
    it("sends an app-level heartbeat every interval and can turn compression off", async () => {
      const coinbase = await CoinbaseSimulator.start({ perMessageDeflate: true });
      cleanups.push(() => coinbase.close());
      const queue = newQueue();
      relay = await startRelay({
        ...sqsEnv(queue.url),
        RELAY_URL: coinbase.url,
        RELAY_HEARTBEAT_MESSAGE: '{"type":"ping"}',
        RELAY_HEARTBEAT_INTERVAL_MS: "100",
        RELAY_PERMESSAGE_DEFLATE: "false",
      });
      await waitFor("connected", () => relay!.relay.ready);
      const received: string[] = [];
      coinbase.sockets[0]!.on("message", (data) => received.push(data.toString()));
      await sleep(550);
      assert.ok(received.filter((m) => m === '{"type":"ping"}').length >= 4, `heartbeats sent: ${received.length}`);
      assert.equal(coinbase.sockets[0]!.extensions, "", "no compression when turned off");
    });
  });
});
