import assert from "node:assert/strict";
import { ConfigError, readConfig, type ConfigSource } from "../../infra/config";
import { DEPLOY_TIME_CONFIG, stackConfig } from "./pulumiHarness";

/** A stack's config as pulumi.Config would serve it, with some keys changed or removed (undefined). */
function source(changes: Record<string, string | undefined> = {}): ConfigSource {
  const values: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries({ ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG })) {
    if (key.startsWith("ws-relay:")) values[key.slice("ws-relay:".length)] = value;
  }
  Object.assign(values, changes);
  return { get: (key) => values[key], getSecret: () => undefined, isSecret: () => false };
}

function rejects(changes: Record<string, string | undefined>, message: RegExp): void {
  assert.throws(() => readConfig(source(changes)), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

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
});
