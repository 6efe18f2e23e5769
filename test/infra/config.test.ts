import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, readConfig, type ConfigSource } from "../../infra/config";
import { DEPLOY_TIME_CONFIG, stackConfig } from "./pulumiHarness";

/**
 * A stack's config as pulumi.Config would serve it, with some keys changed or removed (undefined);
 * `secretKeys` are the ones stored with `--secret`.
 */
function source(changes: Record<string, string | undefined> = {}, secretKeys: readonly string[] = []): ConfigSource {
  const values: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries({ ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG })) {
    if (key.startsWith("ws-relay:")) values[key.slice("ws-relay:".length)] = value;
  }
  Object.assign(values, changes);
  return {
    get: (key) => values[key],
    getSecret: (key) => (values[key] === undefined ? undefined : pulumi.secret(values[key]!)),
    isSecret: (key) => secretKeys.includes(key),
  };
}

/** The message readConfig fails with. */
function failure(changes: Record<string, string | undefined>, secretKeys: readonly string[] = []): string {
  try {
    readConfig(source(changes, secretKeys));
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  return assert.fail("readConfig accepted the config");
}

function rejects(changes: Record<string, string | undefined>, message: RegExp, secretKeys: readonly string[] = []): void {
  assert.match(failure(changes, secretKeys), message);
}

/** The dev stack without its Coinbase feed, for a preset to supply one. */
const NO_FEED = { feedUrl: undefined, feedSubscribe: undefined };
const SLACK_HEADERS = '{"Authorization":"Bearer xapp-1-A0-4242-c0ffee"}';

describe("readConfig", () => {
  it("reads the dev stack file into typed values with defaults for the rest", () => {
    const config = readConfig(source());

    assert.equal(config.feedUrl, "wss://ws-feed.exchange.coinbase.com");
    assert.deepEqual(config.feedSubscribe, [{ type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker"] }]);
    assert.equal(config.batchSize, 100);
    assert.equal(config.relayShutdownTimeoutMs, 25000);
    assert.equal(config.feedTokenScheme, "Bearer");
    assert.deepEqual(config.network, { kind: "create", vpcCidr: "10.10.0.0/16", availabilityZoneCount: 2 });
    assert.ok(Object.isFrozen(config));
  });

  it("names the key, what was expected and what was given", () => {
    rejects({ feedUrl: undefined }, /^ws-relay:feedUrl: expected a ws:\/\/ or wss:\/\/ URL \(optional only with a feedPreset that sets one, or with fetchUrl and fetchAs url\), got nothing$/);
    rejects({ feedUrl: "https://example.com" }, /^ws-relay:feedUrl: expected a ws:\/\/ or wss:\/\/ URL, got "https:\/\/example.com"$/);
    rejects({ desiredCount: "one" }, /^ws-relay:desiredCount: expected an integer from 0 to 10, got "one"$/);
    rejects({ architecture: "arm" }, /^ws-relay:architecture: expected one of arm64, x86_64, got "arm"$/);
    rejects({ logRetentionDays: "10" }, /^ws-relay:logRetentionDays: expected one of 1, 3, 5, 7, 14/);
    rejects({ fifo: "yes" }, /^ws-relay:fifo: expected true or false, got "yes"$/);
    rejects({ feedSubscribe: '{"type":"subscribe"}' }, /^ws-relay:feedSubscribe: expected a list/);
    rejects({ feedHeaders: '{"X-Client":1}' }, /^ws-relay:feedHeaders: expected a map of header name to string value/);
    rejects({ alarmEmail: "ops" }, /^ws-relay:alarmEmail: expected an e-mail address, got "ops"$/);
  });

  it("insists on a deploy-time image tag", () => {
    rejects({ imageTag: undefined }, /ws-relay:imageTag: expected the git SHA of the build: pulumi config set imageTag/);
    rejects({ imageTag: "-bad tag" }, /ws-relay:imageTag: expected a Docker tag/);
  });

  it("accepts only Fargate cpu/memory pairs", () => {
    rejects({ cpu: "300" }, /^ws-relay:cpu: expected one of 256, 512, 1024/);
    rejects({ cpu: "256", memoryMb: "4096" }, /^ws-relay:memoryMb: expected for cpu 256 one of 512, 1024, 2048, got 4096$/);
    assert.equal(readConfig(source({ cpu: "1024", memoryMb: "3072" })).memoryMb, 3072);
  });

  it("keeps the token out of plaintext headers", () => {
    rejects({ feedHeaders: '{"authorization":"Bearer abc"}' }, /ws-relay:feedHeaders: header "authorization" carries the token; set it with `pulumi config set --secret feedToken/);
  });

  it("applies the FIFO rules of SQS and Lambda", () => {
    rejects({ fifo: "true" }, /^ws-relay:messageGroupId: expected a literal or a JSON pointer.*required when fifo is true/);
    rejects({ messageGroupId: "/product_id" }, /^ws-relay:messageGroupId: expected unset unless fifo is true/);
    rejects({ fifo: "true", messageGroupId: "/product_id", batchingWindowSeconds: "0", batchSize: "11" }, /^ws-relay:batchSize: expected an integer from 1 to 10, got "11"$/);
    rejects({ fifo: "true", messageGroupId: "/product_id", batchSize: "10", batchingWindowSeconds: "5" }, /^ws-relay:batchingWindowSeconds: expected an integer from 0 to 0/);
    rejects({ batchSize: "100", batchingWindowSeconds: "0" }, /^ws-relay:batchingWindowSeconds: expected at least 1 when batchSize is above 10/);
  });

  it("allows more than one relay only where SQS deduplicates their copies", () => {
    rejects({ desiredCount: "2" }, /^ws-relay:desiredCount: expected 0 or 1 \(more than one relay duplicates every frame/);
    const config = readConfig(source({ desiredCount: "2", fifo: "true", messageGroupId: "/product_id", dedupId: "/sequence", batchSize: "10", batchingWindowSeconds: "0" }));
    assert.equal(config.desiredCount, 2);
  });

  it("keeps the relay's shutdown deadline below ECS's 120 s stopTimeout and its buffer within the task", () => {
    rejects({ relayShutdownTimeoutMs: "118000" }, /^ws-relay:relayShutdownTimeoutMs: expected an integer from 1000 to 115000, got "118000"$/);
    rejects({ relayMaxBufferBytes: String(512 * 1_048_576) }, /^ws-relay:relayMaxBufferBytes: expected at most half the task memory \(268435456 bytes/);
  });

  it("takes an existing network only as a VPC with its subnets", () => {
    rejects({ subnetIds: '["subnet-1"]' }, /^ws-relay:vpcId: expected the VPC of subnetIds/);
    rejects({ vpcId: "vpc-1", subnetIds: '["subnet-1"]' }, /^ws-relay:vpcCidr: expected unset when vpcId\/subnetIds name an existing network/);
    const config = readConfig(source({ vpcId: "vpc-1", subnetIds: '["subnet-1"]', vpcCidr: undefined, availabilityZoneCount: undefined, assignPublicIp: "true" }));
    assert.deepEqual(config.network, { kind: "existing", vpcId: "vpc-1", subnetIds: ["subnet-1"], assignPublicIp: true });
    rejects({ vpcCidr: "10.0.0.0/8" }, /^ws-relay:vpcCidr: expected an IPv4 CIDR from \/16 to \/24/);
  });

  describe("feed lifecycle keys", () => {
    it("leaves the URL and the cursor to a preset, passing on only what the stack sets", () => {
      const config = readConfig(source({ ...NO_FEED, feedPreset: "jetstream", cursorRewind: "5000000" }));

      assert.equal(config.feedUrl, undefined);
      assert.equal(config.feedPreset, "jetstream");
      assert.equal(config.cursorPointer, undefined, "the preset's /time_us is applied by the relay");
      assert.equal(config.cursorRewind, 5_000_000);
      assert.equal(config.persistCursor, true);
      assert.equal(config.cursorSaveIntervalMs, 1000);
      assert.equal(config.overlapDedupPointer, undefined);
    });

    it("keeps a cursor only when a pointer is in effect", () => {
      assert.equal(readConfig(source()).persistCursor, false);
      assert.equal(readConfig(source({ feedPreset: "coinbase" })).persistCursor, false);
      assert.equal(readConfig(source({ cursorPointer: "/seq", cursorSaveIntervalMs: "5000" })).cursorSaveIntervalMs, 5000);
    });

    it("names the key, what was expected and what was given", () => {
      rejects({ feedPreset: "kraken" }, /^ws-relay:feedPreset: expected one of coinbase, binance, jetstream, slack, got "kraken"$/);
      rejects({ fetchUrl: "ftp://auth.example/token" }, /^ws-relay:fetchUrl: expected an http:\/\/ or https:\/\/ URL, got "ftp:/);
      rejects({ fetchUrl: "https://auth.example/token", fetchPointer: "token" }, /^ws-relay:fetchPointer: expected a JSON pointer like \/time_us/);
      rejects({ fetchUrl: "https://auth.example/token", fetchPointer: "/token", fetchMethod: "FETCH" }, /^ws-relay:fetchMethod: expected one of GET, POST, PUT, PATCH, DELETE, got "FETCH"$/);
      rejects({ feedReconnectOn: "(disconnect" }, /^ws-relay:feedReconnectOn: expected a JavaScript regular expression \(.*\), got "\(disconnect"$/);
      rejects({ feedPerMessageDeflate: "maybe" }, /^ws-relay:feedPerMessageDeflate: expected true or false/);
      rejects({ cursorPointer: "/seq", cursorRewind: "-1" }, /^ws-relay:cursorRewind: expected a number of at least 0, got "-1"$/);
      rejects({ relayMaxConnectionAgeMs: "5000" }, /^ws-relay:relayMaxConnectionAgeMs: expected 0 \(no rotation\) or at least 10000, got 5000$/);
      rejects({ relaySqsTimeoutMs: "10" }, /^ws-relay:relaySqsTimeoutMs: expected an integer from 100 to 60000, got "10"$/);
    });

    it("saves the cursor to SSM at most once a second (Parameter Store's shared throughput)", () => {
      rejects({ cursorPointer: "/seq", cursorSaveIntervalMs: "100" }, /^ws-relay:cursorSaveIntervalMs: expected an integer from 1000 to 3600000, got "100"$/);
    });

    it("refuses settings that have nothing to act on, saying what is missing", () => {
      rejects({ cursorRewind: "3000000" }, /^ws-relay:cursorRewind: expected unset unless cursorPointer is set, got 3000000$/);
      rejects({ feedPreset: "coinbase", cursorSaveIntervalMs: "2000" }, /^ws-relay:cursorSaveIntervalMs: expected unset unless cursorPointer is set \(feedPreset coinbase does not set it\)/);
      rejects({ fetchMethod: "GET" }, /^ws-relay:fetchMethod: expected unset unless fetchUrl is set/);
      rejects({ keepAliveIntervalMs: "60000" }, /^ws-relay:keepAliveIntervalMs: expected unset unless keepAliveUrl is set/);
      rejects({ ackTemplate: '{"ack":"{{id}}"}' }, /^ws-relay:ackTemplate: expected unset unless ackIdPointer is set/);
      rejects({ overlapDedupWindowSize: "100" }, /^ws-relay:overlapDedupWindowSize: expected unset unless overlapDedupPointer is set/);
      rejects({ sequenceKeyPointer: "/product_id" }, /^ws-relay:sequenceKeyPointer: expected unset unless sequencePointer is set/);
      rejects({ heartbeatIntervalMs: "1000" }, /^ws-relay:heartbeatIntervalMs: expected unset unless heartbeatMessage is set/);
      rejects({ fetchUrl: "https://auth.example/token" }, /^ws-relay:fetchPointer: expected a JSON pointer to the value in the fetch response, like \/url \(required with fetchUrl\), got nothing$/);
      // The preset supplies what these need.
      const binance = source({ ...NO_FEED, feedPreset: "binance", fetchHeaders: '{"X-MBX-APIKEY":"k"}', keepAliveIntervalMs: "60000" }, ["fetchHeaders"]);
      assert.equal(readConfig(binance).keepAliveIntervalMs, 60000);
      assert.equal(readConfig(source({ ...NO_FEED, feedPreset: "jetstream", overlapDedupWindowSize: "1000" })).overlapDedupWindowSize, 1000);
    });

    it("refuses {{token}} or {{cursor}} placeholders that nothing fills", () => {
      rejects({ feedUrl: "wss://feed.example/?cursor={{cursor}}" }, /^ws-relay:feedUrl: expected no \{\{cursor\}\} unless cursorPointer is set/);
      rejects({ feedSubscribe: '[{"op":"auth","token":"{{token}}"}]' }, /^ws-relay:feedSubscribe: expected no \{\{token\}\} unless fetchUrl fetches a token/);
      const config = readConfig(source({ feedUrl: "wss://feed.example/?cursor={{cursor}}", cursorPointer: "/seq" }));
      assert.equal(config.feedUrl, "wss://feed.example/?cursor={{cursor}}");
    });

    it("takes fetchHeaders only as a secret, never showing its value", () => {
      const plaintext = failure({ ...NO_FEED, feedPreset: "slack", fetchHeaders: SLACK_HEADERS });
      assert.match(plaintext, /^ws-relay:fetchHeaders: expected a secret \(pulumi config set --secret fetchHeaders '\{"Authorization":"Bearer …"\}'\), got a plaintext value \(not shown; .*rotate it/);
      assert.ok(!plaintext.includes("xapp"), plaintext);
      const malformed = failure({ ...NO_FEED, feedPreset: "slack", fetchHeaders: "Bearer xapp-1-A0-4242-c0ffee" }, ["fetchHeaders"]);
      assert.match(malformed, /^ws-relay:fetchHeaders: expected a JSON object of header names to string values, .* got "a secret value \(not shown\)"$/);
      assert.ok(!malformed.includes("xapp"), malformed);
      rejects({ fetchHeaders: SLACK_HEADERS }, /^ws-relay:fetchHeaders: expected unset unless fetchUrl is set, got "a secret value \(not shown\)"$/, ["fetchHeaders"]);
      const config = readConfig(source({ ...NO_FEED, feedPreset: "slack", fetchHeaders: SLACK_HEADERS }, ["fetchHeaders"]));
      assert.ok(pulumi.Output.isInstance(config.fetchHeaders));
    });

    it("asks for the credentials a Slack or Binance preset fetches with", () => {
      rejects({ ...NO_FEED, feedPreset: "slack" }, /^ws-relay:fetchHeaders: expected the credentials feedPreset slack fetches with: pulumi config set --secret fetchHeaders '\{"Authorization":"Bearer xapp-…"\}'/);
      rejects({ ...NO_FEED, feedPreset: "binance" }, /^ws-relay:fetchHeaders: expected the credentials feedPreset binance fetches with: pulumi config set --secret fetchHeaders '\{"X-MBX-APIKEY":"…"\}'/);
    });

    it("takes the feed token only as a secret too", () => {
      const message = failure({ feedToken: "tok-plain-4242" });
      assert.match(message, /^ws-relay:feedToken: expected a secret \(pulumi config set --secret feedToken <token>\), got a plaintext value \(not shown/);
      assert.ok(!message.includes("tok-plain-4242"));
    });

    it("needs no feedUrl when the URL is fetched before each connect", () => {
      const config = readConfig(source({ ...NO_FEED, fetchUrl: "https://slack.example/open", fetchPointer: "/url", fetchAs: "url", fetchHeaders: SLACK_HEADERS }, ["fetchHeaders"]));
      assert.equal(config.feedUrl, undefined);
      rejects({ ...NO_FEED, fetchUrl: "https://auth.example/token", fetchPointer: "/token" }, /^ws-relay:feedUrl: expected a ws:\/\/ or wss:\/\/ URL/);
    });
  });
});
