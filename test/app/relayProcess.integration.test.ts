import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type FeedClient, FeedServer } from "../helpers/feedServer";
import { REPO_ROOT, type RelayProcess, spawnRelay } from "../helpers/relayHarness";
import { useSqsTestbed } from "../helpers/sqsTestbed";
import { sleep, waitFor } from "../helpers/waitFor";

describe("relay process (integration: signals, exit codes, logs)", function () {
  this.timeout(60_000);
  const testbed = useSqsTestbed("process-test");
  let feed: FeedServer | undefined;
  let relay: RelayProcess | undefined;
  afterEach(async () => {
    relay?.kill();
    await relay?.exited;
    await feed?.close();
    relay = undefined;
    feed = undefined;
  });
  const newQueue = (): { name: string; url: string } => testbed.newQueue();

  const hasLog = (process: RelayProcess, text: string) => () => process.logs().find((line) => String(line.msg).includes(text));

  /** A feed, a queue and the relay process between them, connected; SQS through the proxy. */
  async function connectedRelay(env: Record<string, string>): Promise<{ queue: { name: string; url: string }; client: FeedClient; relay: RelayProcess }> {
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = spawnRelay({ RELAY_URL: feed.url, RELAY_QUEUE_URL: queue.url, AWS_ENDPOINT_URL_SQS: testbed.proxy.endpoint, ...env });
    const client = await feed.connection(1, 15_000);
    await waitFor("connected", hasLog(relay, "connected"));
    return { queue, client, relay };
  }

  it("on SIGTERM while SQS hangs, closes the feed with 1001, flushes everything once SQS answers, and exits 0", async () => {
    const { queue, client, relay } = await connectedRelay({ RELAY_SQS_TIMEOUT_MS: "500", RELAY_SHUTDOWN_TIMEOUT_MS: "15000" });
    testbed.proxy.setMode("hang");
    const closed = new Promise<number>((resolve) => client.socket.once("close", (code) => resolve(code)));
    for (let i = 0; i < 300; i++) client.socket.send(JSON.stringify({ i }));
    await waitFor("the relay sees SQS failing", hasLog(relay, "SQS call failed"));
    relay.child.kill("SIGTERM");
    assert.equal(await closed, 1001, "the feed is closed with 1001 (going away)");
    await sleep(1_000);
    assert.equal(relay.child.exitCode, null, "it keeps trying to flush before the deadline");
    testbed.proxy.setMode("pass");
    const { code } = await relay.exited;
    assert.equal(code, 0);
    const bodies = testbed.emulator.messages(queue.name).map((m) => m.body);
    assert.equal(new Set(bodies).size, 300, "every frame received is in SQS");
    assert.ok(relay.logs().some((l) => String(l.msg).includes("shutdown complete")));
  });

  it("exits non-zero and says how many frames were not delivered when the deadline passes", async () => {
    const { client, relay } = await connectedRelay({ RELAY_SQS_TIMEOUT_MS: "300", RELAY_SHUTDOWN_TIMEOUT_MS: "1500" });
    testbed.proxy.setMode("refuse");
    for (let i = 0; i < 50; i++) client.socket.send(`frame ${i}`);
    await waitFor("the relay sees SQS failing", hasLog(relay, "SQS call failed"));
    const signalledAt = Date.now();
    relay.child.kill("SIGINT");
    const { code } = await relay.exited;
    const tookMs = Date.now() - signalledAt;
    assert.equal(code, 1);
    assert.ok(tookMs < 5_000, `gave up at the deadline (${tookMs} ms)`);
    const report = relay.logs().find((l) => String(l.msg).includes("not delivered"));
    assert.ok(report, "the loss is logged");
    assert.equal(report.undelivered, 50);
  });

  it("never logs the bearer token, header values or URL secrets, even at trace level", async () => {
    const token = "tok-7f3a9c-SECRET";
    const headerSecret = "hdr-19b2-SECRET";
    const urlSecret = "url-5d4e-SECRET";
    feed = await FeedServer.start();
    const queue = newQueue();
    relay = spawnRelay({
      RELAY_URL: `${feed.url}/stream?apikey=${urlSecret}`,
      RELAY_QUEUE_URL: queue.url,
      AWS_ENDPOINT_URL_SQS: testbed.proxy.endpoint,
      RELAY_TOKEN: token,
      RELAY_HEADERS: JSON.stringify({ "X-Api-Key": headerSecret }),
      RELAY_RECONNECT_MIN_MS: "20",
      RELAY_RECONNECT_MAX_MS: "50",
      LOG_LEVEL: "trace",
    });
    const client = await feed.connection(1, 15_000);
    assert.equal(client.request.headers.authorization, `Bearer ${token}`, "the token reaches the feed");
    assert.equal(client.request.headers["x-api-key"], headerSecret);
    client.socket.send("hello");
    client.socket.terminate();
    await feed.connection(2);
    await waitFor("the frame in SQS", () => testbed.emulator.messages(queue.name).length === 1);
    relay.child.kill("SIGTERM");
    assert.equal((await relay.exited).code, 0);
    const output = relay.stdout.join("\n") + relay.stderr.join("");
    assert.ok(relay.stdout.length > 5, "there were log lines to check");
    for (const secret of [token, headerSecret, urlSecret]) assert.ok(!output.includes(secret), `${secret} leaked into the logs`);
    assert.ok(output.includes("apikey=***"), "the URL is logged with its query values masked");
  });

  it("runs from the single-file bundle the container ships, with no node_modules beside it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ws-relay-bundle-"));
    try {
      const outfile = path.join(dir, "relay.js");
      execFileSync(path.join(REPO_ROOT, "node_modules", ".bin", "esbuild"), ["app/main.ts", "--bundle", "--platform=node", "--target=node20", `--outfile=${outfile}`, "--log-level=warning"], { cwd: REPO_ROOT });
      feed = await FeedServer.start();
      const queue = newQueue();
      relay = spawnRelay({ RELAY_URL: feed.url, RELAY_QUEUE_URL: queue.url, AWS_ENDPOINT_URL_SQS: testbed.proxy.endpoint, RELAY_SUBSCRIBE: '["hi"]' }, { bundle: outfile });
      const client = await feed.connection(1, 15_000);
      await waitFor("subscribe message", () => client.received[0] === "hi");
      client.socket.send('{"from":"bundle"}');
      await waitFor("the frame in SQS", () => testbed.emulator.messages(queue.name).length === 1);
      relay.child.kill("SIGTERM");
      assert.equal((await relay.exited).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("bad configuration stops the process with a message naming the variable", () => {
    const base = { RELAY_URL: "ws://127.0.0.1:9", RELAY_QUEUE_URL: "http://127.0.0.1:9/000000000000/q" };
    const cases: Array<{ env: Record<string, string>; variable: string; says: RegExp }> = [
      { env: { RELAY_QUEUE_URL: base.RELAY_QUEUE_URL }, variable: "RELAY_URL", says: /expected a value \(it is required\), got nothing/ },
      { env: { ...base, RELAY_URL: "http://feed.example" }, variable: "RELAY_URL", says: /expected a ws:\/\/ or wss:\/\/ URL, got a URL with scheme "http:"/ },
      { env: { RELAY_URL: base.RELAY_URL }, variable: "RELAY_QUEUE_URL", says: /required/ },
      { env: { ...base, RELAY_PING_INTERVAL_MS: "soon" }, variable: "RELAY_PING_INTERVAL_MS", says: /expected a whole number ≥ 100, got "soon"/ },
      { env: { ...base, RELAY_MAX_IN_FLIGHT: "0" }, variable: "RELAY_MAX_IN_FLIGHT", says: /from 1 to 1000, got "0"/ },
      { env: { ...base, RELAY_SUBSCRIBE: "{not json" }, variable: "RELAY_SUBSCRIBE", says: /expected a JSON array of messages in JSON, got text that is not JSON/ },
      { env: { ...base, RELAY_SUBSCRIBE: '{"type":"subscribe"}' }, variable: "RELAY_SUBSCRIBE", says: /expected a JSON array of messages/ },
      { env: { ...base, RELAY_MESSAGE_GROUP_ID: "/product_id" }, variable: "RELAY_MESSAGE_GROUP_ID", says: /only for a FIFO queue/ },
      { env: { ...base, LOG_LEVEL: "loud" }, variable: "LOG_LEVEL", says: /one of fatal, error/ },
    ];
    for (const { env, variable, says } of cases) {
      it(`${variable}: ${says.source.slice(0, 60)}`, async () => {
        relay = spawnRelay(env);
        const { code } = await relay.exited;
        const stderr = relay.stderr.join("");
        assert.equal(code, 2);
        assert.match(stderr, new RegExp(`^ws-relay: bad configuration: ${variable}: `));
        assert.match(stderr, says);
      });
    }

    it("RELAY_HEADERS: a malformed value is reported without echoing it", async () => {
      relay = spawnRelay({ ...base, RELAY_HEADERS: '{"Authorization": "Bearer sk-live-123",' });
      const { code } = await relay.exited;
      const stderr = relay.stderr.join("");
      assert.equal(code, 2);
      assert.match(stderr, /RELAY_HEADERS: expected a JSON object of header names to string values in JSON/);
      assert.ok(!stderr.includes("sk-live-123"), "the secret is not echoed");
    });
  });
});
