import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import type { SQSBatchResponse } from "aws-lambda";
import type { OnEvent } from "../../consumer/createHandler";
import { readConfig } from "../../infra/config";
import { pulumiConfigSource } from "../../infra/pulumiConfigSource";
import { WebSocketRelay } from "../../infra/WebSocketRelay";
import { relayBatch } from "../consumer/sqsRecord";
import { DEPLOY_TIME_CONFIG, runProgram, stackConfig, type StackName, type StackRun } from "./pulumiHarness";

const run = promisify(execFile);

/** Packages the function must not carry: the runtime's SDK, the relay's own packages, Pulumi. */
const FORBIDDEN = [/^@aws-sdk\//, /^ws$/, /^pino/, /^prom-client$/, /^zod$/, /^@pulumi\//, /^esbuild$/, /^typescript$/, /^mocha$/];

/** The test's own handler: reports what it got, and refuses records whose JSON says `"fail": true`. */
const refuseFailRecords: OnEvent = (event, tools) => {
  const body = typeof event.body === "string" ? `string:${event.body}` : `buffer:${event.body.toString("hex")}`;
  tools.logger.info("test handler saw", { messageId: event.messageId, seq: event.seq, body });
  if ((event.json as { fail?: boolean } | undefined)?.fail === true) throw new Error("test handler refuses this record");
};

interface Archive {
  readonly dir: string;
  readonly environment: Record<string, string>;
  readonly handler: string;
}

/** Writes the function's code archive, as the program produced it, into a fresh folder outside the repo. */
async function materialize(stackRun: StackRun): Promise<Archive> {
  const [func] = stackRun.ofType("aws:lambda/function:Function");
  assert.ok(func, "the program creates the consumer function");
  const assets = (await func.inputs.code.assets) as Record<string, pulumi.asset.Asset | pulumi.asset.Archive>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-relay-lambda-"));
  for (const [name, asset] of Object.entries(assets)) {
    const target = path.join(dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (asset instanceof pulumi.asset.StringAsset) {
      fs.writeFileSync(target, (await asset.text)!);
    } else if (asset instanceof pulumi.asset.FileArchive || asset instanceof pulumi.asset.FileAsset) {
      fs.cpSync(path.resolve(await asset.path), target, { recursive: true, dereference: true });
    } else {
      assert.fail(`unexpected asset kind for ${name}`);
    }
  }
  return { dir, environment: func.inputs.environment.variables as Record<string, string>, handler: func.inputs.handler as string };
}

function packagesIn(dir: string): string[] {
  const found: string[] = [];
  const walk = (nodeModules: string) => {
    if (!fs.existsSync(nodeModules)) return;
    for (const entry of fs.readdirSync(nodeModules)) {
      if (entry.startsWith(".")) continue;
      const names = entry.startsWith("@") ? fs.readdirSync(path.join(nodeModules, entry)).map((child) => `${entry}/${child}`) : [entry];
      for (const name of names) {
        found.push(name);
        walk(path.join(nodeModules, name, "node_modules"));
      }
    }
  };
  walk(path.join(dir, "node_modules"));
  return found;
}

/** Bytes on disk, and the size of a deflated zip of the same files (local + central headers included). */
function archiveSize(dir: string): { bytes: number; zippedBytes: number; files: number } {
  let bytes = 0;
  let zippedBytes = 22;
  let files = 0;
  for (const relative of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, relative);
    if (!fs.statSync(file).isFile()) continue;
    const content = fs.readFileSync(file);
    files += 1;
    bytes += content.length;
    zippedBytes += Math.min(content.length, zlib.deflateRawSync(content).length) + 30 + 46 + 2 * Buffer.byteLength(relative);
  }
  return { bytes, zippedBytes, files };
}

const RUNNER = `
const fs = require("node:fs");
// Prove the isolation: nothing outside the archive can be required.
for (const outside of ["ws", "@aws-sdk/client-sqs", "@pulumi/pulumi"]) {
  let found = false;
  try { require.resolve(outside); found = true; } catch {}
  if (found) { console.error("resolvable outside the archive: " + outside); process.exit(3); }
}
const [file, exportName] = process.argv[2].split(".");
const handler = require("./" + file + ".js")[exportName];
const context = { functionName: "relay-consumer", functionVersion: "$LATEST", awsRequestId: "req-1", memoryLimitInMB: "256",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:relay-consumer", logGroupName: "g", logStreamName: "s",
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000 };
(async () => {
  const results = [];
  for (const event of JSON.parse(fs.readFileSync(process.argv[3], "utf8"))) {
    try { results.push({ response: await handler(event, context) }); }
    catch (error) { results.push({ error: error.name }); }
  }
  process.stdout.write("\\nRESULT " + JSON.stringify(results) + "\\n");
})();
`;

interface Invocation {
  readonly results: Array<{ response?: SQSBatchResponse; error?: string }>;
  /** Every stdout line that is a JSON object (Powertools logs and EMF). */
  readonly lines: Array<Record<string, unknown>>;
}

/** Runs the archive's handler in a separate Node process whose only code is the archive. */
async function invoke(archive: Archive, events: unknown[]): Promise<Invocation> {
  fs.writeFileSync(path.join(archive.dir, "runner.cjs"), RUNNER);
  fs.writeFileSync(path.join(archive.dir, "events.json"), JSON.stringify(events));
  const { stdout } = await run(process.execPath, ["runner.cjs", archive.handler, "events.json"], {
    cwd: archive.dir,
    timeout: 15_000,
    // A Lambda-like environment: the function's variables, nothing from this process (no NODE_PATH, NODE_OPTIONS).
    env: { PATH: process.env.PATH ?? "", AWS_REGION: "eu-west-1", AWS_LAMBDA_FUNCTION_NAME: "relay-consumer", ...archive.environment },
  });
  const marker = stdout.lastIndexOf("\nRESULT ");
  assert.ok(marker >= 0, `no result from the handler process:\n${stdout}`);
  const lines = stdout
    .slice(0, marker)
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { results: JSON.parse(stdout.slice(marker + "\nRESULT ".length)), lines };
}

function cleanUp(archive: Archive | undefined): void {
  if (archive) fs.rmSync(archive.dir, { recursive: true, force: true });
}

describe("the consumer Lambda archive the program produces", function () {
  this.timeout(60_000);
  let archive: Archive | undefined;

  before(async () => {
    archive = await materialize(await runProgram({ ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG }, { stack: "dev" }));
  });
  after(() => cleanUp(archive));

  it("carries Powertools and nothing of the AWS SDK, the relay or Pulumi", () => {
    const packages = packagesIn(archive!.dir);
    assert.ok(packages.includes("@aws-lambda-powertools/batch"));
    assert.ok(packages.includes("@aws-lambda-powertools/logger"));
    assert.ok(packages.includes("@aws-lambda-powertools/metrics"));
    for (const pkg of packages) {
      assert.ok(!FORBIDDEN.some((pattern) => pattern.test(pkg)), `${pkg} must not be in the function archive`);
    }
    const size = archiveSize(archive!.dir);
    // Recorded in the README; the budget catches a dependency slipping back in.
    console.log(`      archive: ${size.files} files, ${(size.bytes / 1024).toFixed(0)} KiB unzipped, ~${(size.zippedBytes / 1024).toFixed(0)} KiB zipped`);
    assert.ok(size.zippedBytes < 1024 * 1024, `zipped archive ${size.zippedBytes} bytes exceeds 1 MiB`);
  });

  it("the default handler logs one line per event and the feed→Lambda age as EMF, failing nothing", async () => {
    const receivedAt = Date.now() - 2_000;
    const records = relayBatch(receivedAt);

    const { results, lines } = await invoke(archive!, [{ Records: records }]);

    assert.deepEqual(results, [{ response: { batchItemFailures: [] } }]);
    const events = lines.filter((line) => line.message === "event");
    assert.deepEqual(events.map((line) => line.messageId).sort(), records.map((record) => record.messageId).sort());
    assert.ok(events.every((line) => line.service === "relay-consumer" && line.level === "INFO"));
    const emf = lines.filter((line) => line._aws !== undefined);
    assert.equal(emf.length, 1, "one EMF line per batch");
    const directive = (emf[0]!._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }> }).CloudWatchMetrics[0]!;
    assert.equal(directive.Namespace, "ws-relay");
    assert.deepEqual(directive.Metrics, [{ Name: "FeedToLambdaAgeMs", Unit: "Milliseconds" }]);
    assert.equal(emf[0]!.service, archive!.environment.POWERTOOLS_SERVICE_NAME, "the dimension the dashboard reads");
    const ages = emf[0]!.FeedToLambdaAgeMs as number[];
    assert.equal(ages.length, records.length);
    assert.ok(ages.every((age) => age >= 2_000 && age < 60_000), `ages ${ages.join(",")}`);
  });
});

for (const [stack, expectedFailures] of [["dev", [3]], ["prod", [3, 4]]] as Array<[StackName, number[]]>) {
  describe(`a user's handler deployed by the ${stack} stack (${stack === "prod" ? "FIFO" : "standard"} queue)`, function () {
    this.timeout(60_000);
    let archive: Archive | undefined;

    before(async () => {
      const stackRun = await runProgram({ ...stackConfig(stack), ...DEPLOY_TIME_CONFIG }, {
        stack,
        program: () => {
          const relay = new WebSocketRelay("relay", { ...readConfig(pulumiConfigSource()), onEvent: refuseFailRecords });
          return { functionName: relay.functionName };
        },
      });
      archive = await materialize(stackRun);
    });
    after(() => cleanUp(archive));

    it("gets JSON, plain text and binary decoded, and its failure comes back as a partial batch response", async () => {
      const records = relayBatch(Date.now());

      const { results, lines } = await invoke(archive!, [{ Records: records }]);

      assert.deepEqual(results, [{ response: { batchItemFailures: expectedFailures.map((index) => ({ itemIdentifier: records[index]!.messageId })) } }]);
      const seen = new Map(lines.filter((line) => line.message === "test handler saw").map((line) => [line.seq, line.body]));
      assert.equal(seen.get(1), 'string:{"type":"ticker","product_id":"BTC-USD","price":"97000.01"}');
      assert.equal(seen.get(2), "string:plain text frame");
      assert.equal(seen.get(3), "buffer:00ff1080");
      assert.equal(seen.has(5), stack !== "prod", "FIFO stops at the first failure");
    });
  });
}
