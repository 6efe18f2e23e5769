import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SSMClient } from "@aws-sdk/client-ssm";
import { ConfigError, parseConfig } from "../../app/config";
import { CursorTracker } from "../../app/CursorTracker";
import { DedupWindow } from "../../app/DedupWindow";
import { SequenceGapDetector } from "../../app/SequenceGapDetector";
import { SsmCursorStore } from "../../app/SsmCursorStore";
import { renderJsonText, renderText, renderUrl } from "../../app/template";
import { FAKE_AWS_ENV } from "../helpers/relayHarness";

describe("templates", () => {
  it("fills {{token}} and {{cursor}} in URLs, percent-encoded, and leaves out a cursor parameter with no cursor yet", () => {
    assert.equal(renderUrl("wss://h/ws/{{token}}", { token: "a/b c" }), "wss://h/ws/a%2Fb%20c");
    assert.equal(renderUrl("wss://h/subscribe?cursor={{cursor}}&wantedCollections=x", { cursor: undefined }), "wss://h/subscribe?wantedCollections=x");
    assert.equal(renderUrl("wss://h/subscribe?cursor={{cursor}}", {}), "wss://h/subscribe");
    assert.equal(renderUrl("wss://h/subscribe?cursor={{ cursor }}", { cursor: "1700" }), "wss://h/subscribe?cursor=1700");
  });
  it("fills subscribe messages verbatim and acks JSON-escaped", () => {
    assert.equal(renderText('{"token":"{{token}}"}', { token: "t1" }), '{"token":"t1"}');
    assert.equal(renderJsonText('{"envelope_id":"{{id}}"}', { id: 'a"b' }), '{"envelope_id":"a\\"b"}');
  });
});

describe("CursorTracker", () => {
  it("advances only past frames that SQS accepted together with every earlier frame", () => {
    const tracker = new CursorTracker(undefined);
    tracker.track(1, "100");
    tracker.track(2, "200");
    tracker.track(3, undefined);
    tracker.track(4, "400");
    tracker.settle(2);
    assert.equal(tracker.cursor, undefined, "frame 1 is not in SQS yet");
    tracker.settle(4);
    assert.equal(tracker.cursor, undefined);
    tracker.settle(1);
    assert.equal(tracker.cursor, "200", "1 and 2 are in; 3 is not");
    assert.equal(tracker.takeChanged(), true);
    assert.equal(tracker.takeChanged(), false);
    tracker.settle(3);
    assert.equal(tracker.cursor, "400");
  });
});

describe("DedupWindow and SequenceGapDetector", () => {
  it("forgets the oldest key beyond its size", () => {
    const window = new DedupWindow(2);
    assert.equal(window.seen("a"), false);
    assert.equal(window.seen("b"), false);
    assert.equal(window.seen("a"), true);
    assert.equal(window.seen("c"), false);
    assert.equal(window.seen("a"), false, "a was the oldest and fell out");
  });
  it("reports jumps per key, not repeats or rewinds", () => {
    const gaps = new SequenceGapDetector();
    assert.equal(gaps.observe("BTC", 10), undefined);
    assert.equal(gaps.observe("ETH", 50), undefined);
    assert.equal(gaps.observe("BTC", 11), undefined);
    assert.deepEqual(gaps.observe("BTC", 14), { key: "BTC", expected: 12, got: 14, missing: 2 });
    assert.equal(gaps.observe("BTC", 13), undefined, "late arrival");
    assert.equal(gaps.observe("BTC", 15), undefined);
  });
});

describe("SsmCursorStore (against an HTTP server speaking the SSM JSON protocol)", () => {
  let server: Server;
  const parameters = new Map<string, string>();
  const calls: Array<{ target: string; body: Record<string, unknown> }> = [];
  before(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"]);
        const body = JSON.parse(raw) as { Name: string; Value?: string };
        calls.push({ target, body });
        res.setHeader("content-type", "application/x-amz-json-1.1");
        if (target === "AmazonSSM.GetParameter") {
          const value = parameters.get(body.Name);
          if (value === undefined) {
            res.writeHead(400).end(JSON.stringify({ __type: "ParameterNotFound", message: "not found" }));
          } else {
            res.writeHead(200).end(JSON.stringify({ Parameter: { Name: body.Name, Value: value, Type: "String", Version: 1 } }));
          }
        } else if (target === "AmazonSSM.PutParameter") {
          parameters.set(body.Name, body.Value!);
          res.writeHead(200).end(JSON.stringify({ Version: 2, Tier: "Standard" }));
        } else {
          res.writeHead(400).end(JSON.stringify({ __type: "InvalidAction" }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads nothing before the first save, then reads back what it saved, overwriting in place", async () => {
    const client = new SSMClient({
      region: FAKE_AWS_ENV.AWS_REGION,
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const store = new SsmCursorStore(client, "/ws-relay/dev/cursor", 2_000);
    assert.equal(await store.load(), undefined);
    await store.save("1700000000000001");
    await store.save("1700000000000002");
    assert.equal(await store.load(), "1700000000000002");
    const put = calls.find((c) => c.target === "AmazonSSM.PutParameter")!;
    assert.deepEqual(put.body, { Name: "/ws-relay/dev/cursor", Value: "1700000000000001", Type: "String", Overwrite: true });
    client.destroy();
  });
});

describe("parseConfig: lifecycle settings", () => {
  const base = { RELAY_URL: "wss://feed.example/ws", RELAY_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/feed" };
  const fails = (env: Record<string, string>, variable: string): void => {
    assert.throws(() => parseConfig(env), (error: unknown) => error instanceof ConfigError && error.variable === variable, variable);
  };
  it("applies a preset's defaults under the user's own values", () => {
    const config = parseConfig({ ...base, RELAY_PRESET: "jetstream", RELAY_CURSOR_REWIND: "5000000" });
    assert.equal(config.url, base.RELAY_URL, "the user's URL wins");
    assert.equal(config.cursor?.pointer.text, "/time_us");
    assert.equal(config.cursor?.rewind, 5_000_000);
    assert.equal(config.dedup?.pointer.text, "/time_us");
  });
  it("needs no RELAY_URL when the URL is fetched before each connect (Slack)", () => {
    const config = parseConfig({ RELAY_QUEUE_URL: base.RELAY_QUEUE_URL, RELAY_PRESET: "slack", RELAY_FETCH_HEADERS: '{"Authorization":"Bearer xapp-1"}' });
    assert.equal(config.fetch?.as, "url");
    assert.equal(config.fetch?.headers.Authorization, "Bearer xapp-1");
    assert.equal(config.ack?.idPointer.text, "/envelope_id");
    assert.ok(config.reconnectOn?.test('{"type": "disconnect","reason":"refresh_requested"}'));
  });
  it("names the variable for each bad lifecycle value", () => {
    fails({ ...base, RELAY_PRESET: "kraken" }, "RELAY_PRESET");
    fails({ ...base, RELAY_FETCH_URL: "https://api.example/token" }, "RELAY_FETCH_POINTER");
    fails({ ...base, RELAY_FETCH_URL: "https://api.example/token", RELAY_FETCH_POINTER: "/t", RELAY_FETCH_AS: "header" }, "RELAY_FETCH_AS");
    fails({ ...base, RELAY_CURSOR_FILE: "/tmp/c" }, "RELAY_CURSOR_POINTER");
    fails({ ...base, RELAY_CURSOR_POINTER: "/t", RELAY_CURSOR_REWIND: "-1" }, "RELAY_CURSOR_REWIND");
    fails({ ...base, RELAY_RECONNECT_ON: "(unclosed" }, "RELAY_RECONNECT_ON");
    fails({ ...base, RELAY_ACK_ID_POINTER: "envelope_id" }, "RELAY_ACK_ID_POINTER");
    fails({ ...base, RELAY_PERMESSAGE_DEFLATE: "maybe" }, "RELAY_PERMESSAGE_DEFLATE");
    fails({ ...base, RELAY_MAX_CONNECTION_AGE_MS: "1h" }, "RELAY_MAX_CONNECTION_AGE_MS");
  });
  it("never echoes fetch headers, which carry credentials", () => {
    assert.throws(
      () => parseConfig({ ...base, RELAY_FETCH_URL: "https://x/y", RELAY_FETCH_POINTER: "/t", RELAY_FETCH_HEADERS: '{"Authorization": "Bearer xapp-secret"' }),
      (error: unknown) => error instanceof ConfigError && error.variable === "RELAY_FETCH_HEADERS" && !error.message.includes("xapp-secret"),
    );
  });
});
