import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "../../app/config";
import { DEPLOY_TIME_CONFIG, physicalName, runProgram, stackConfig, type StackRun } from "./pulumiHarness";

// Issue 6 under mocks: the feed-lifecycle keys reach the task definition, fetch credentials only
// through `secrets`, and a resume cursor gets exactly its own SSM parameter on the task role.

const T = {
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  ssmParameter: "aws:ssm/parameter:Parameter",
} as const;

const SLACK_HEADERS = '{"Authorization":"Bearer xapp-1-A0-4242-c0ffee-not-for-logs"}';
const TOKEN = "tok-77e2b54d0e9b1a-not-for-logs";

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string;
}

interface ContainerDefinition {
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
}

function container(run: StackRun): ContainerDefinition {
  const [taskDefinition] = run.ofType(T.taskDefinition);
  return (JSON.parse(taskDefinition!.inputs.containerDefinitions as string) as ContainerDefinition[])[0]!;
}

function env(run: StackRun): Record<string, string> {
  return Object.fromEntries(container(run).environment.map((entry) => [entry.name, entry.value]));
}

function roleStatements(run: StackRun, roleName: string): Statement[] {
  return (JSON.parse(run.one(T.rolePolicy, roleName).inputs.policy as string) as { Statement: Statement[] }).Statement;
}

/** Every SSM action granted anywhere in the stack. */
function ssmGrants(run: StackRun): Array<{ policy: string; statement: Statement }> {
  return run.ofType(T.rolePolicy).flatMap((policy) =>
    roleStatements(run, policy.name)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith("ssm:")))
      .map((statement) => ({ policy: policy.name, statement })),
  );
}

/** The ARN the mocks give a secret, as the container's `secrets` should name it. */
function secretArn(run: StackRun, name: string): string {
  const secret = run.one(T.secret, name);
  return `arn:aws:secretsmanager:${run.region}:123456789012:${physicalName(secret.type, secret.name, secret.inputs)}`;
}

/** The dev stack with a different feed: its Coinbase URL and subscription removed. */
function devWith(changes: Record<string, string>): Record<string, string> {
  const config: Record<string, string> = { ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG, ...changes };
  if (!("ws-relay:feedUrl" in changes)) delete config["ws-relay:feedUrl"];
  if (!("ws-relay:feedSubscribe" in changes)) delete config["ws-relay:feedSubscribe"];
  return config;
}

describe("a Jetstream stack (feedPreset jetstream: a resume cursor)", () => {
  const parameterName = "/ws-relay/dev/relay/cursor";
  let run: StackRun;
  before(async () => {
    run = await runProgram(devWith({ "ws-relay:feedPreset": "jetstream", "ws-relay:cursorRewind": "5000000", "ws-relay:cursorSaveIntervalMs": "2000" }), { stack: "dev" });
  });

  it("tells the relay the preset, its SSM parameter and how often to save, and leaves the preset's URL to it", () => {
    const variables = env(run);
    assert.equal(variables.RELAY_PRESET, "jetstream");
    assert.equal(variables.RELAY_CURSOR_SSM_PARAMETER, parameterName);
    assert.equal(variables.RELAY_CURSOR_SAVE_INTERVAL_MS, "2000");
    assert.equal(variables.RELAY_CURSOR_REWIND, "5000000");
    assert.equal(variables.RELAY_URL, undefined);
    assert.equal(variables.RELAY_CURSOR_FILE, undefined, "the root filesystem is read-only");
    assert.equal(run.outputs.cursorParameterName, parameterName);
  });

  it("grants the task role exactly ssm:GetParameter and ssm:PutParameter on that one parameter", () => {
    const parameterArn = `arn:aws:ssm:${run.region}:123456789012:parameter${parameterName}`;
    assert.deepEqual(roleStatements(run, "relay-relay-task"), [
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: run.outputs.queueArn },
      { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: parameterArn },
    ]);
    assert.deepEqual(ssmGrants(run).map((grant) => grant.policy), ["relay-relay-task"], "no other role touches SSM");
  });

  it("leaves the parameter to the relay, so no deploy can reset the cursor", () => {
    assert.deepEqual(run.ofType(T.ssmParameter), []);
  });

  it("gives the relay an environment it accepts, resuming from that parameter", () => {
    const config = parseConfig(env(run));
    assert.equal(config.preset, "jetstream");
    assert.equal(config.cursor?.ssmParameter, parameterName);
    assert.equal(config.cursor?.saveIntervalMs, 2000);
    assert.equal(config.cursor?.rewind, 5_000_000);
    assert.equal(config.cursor?.pointer.text, "/time_us");
    assert.equal(config.cursor?.file, undefined);
    assert.match(config.url, /cursor=\{\{cursor\}\}/);
  });
});

describe("a Slack stack (feedPreset slack: the URL fetched with an app token)", () => {
  let run: StackRun;
  before(async () => {
    run = await runProgram(devWith({ "ws-relay:feedPreset": "slack", "ws-relay:fetchHeaders": SLACK_HEADERS }), {
      stack: "dev",
      secretKeys: ["ws-relay:fetchHeaders"],
    });
  });

  it("delivers the fetch headers only through `secrets`, from a Secrets Manager secret holding the value", () => {
    const [version] = run.ofType(T.secretVersion);
    assert.equal(version!.inputs.secretString.value, SLACK_HEADERS);
    assert.equal(version!.inputs.secretString[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, "still a Pulumi secret");
    const definition = container(run);
    assert.deepEqual(definition.secrets, [{ name: "RELAY_FETCH_HEADERS", valueFrom: secretArn(run, "relay-fetch-headers") }]);
    assert.equal(env(run).RELAY_FETCH_HEADERS, undefined);
    assert.equal(env(run).RELAY_PRESET, "slack");
    for (const resource of run.resources) {
      if (resource.type === T.secretVersion) continue;
      assert.ok(!JSON.stringify(resource.inputs).includes("xapp-"), `${resource.type} ${resource.name}`);
    }
  });

  it("lets the execution role read exactly that secret, and the task role neither it nor SSM", () => {
    const reads = roleStatements(run, "relay-relay-execution").filter((statement) => statement.Action.includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(reads.map((statement) => statement.Resource), [secretArn(run, "relay-fetch-headers")]);
    assert.deepEqual(roleStatements(run, "relay-relay-task"), [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: run.outputs.queueArn }]);
    assert.deepEqual(ssmGrants(run), [], "no cursor: no SSM permission");
  });

  it("gives the relay an environment it accepts once ECS adds the secret", () => {
    const config = parseConfig({ ...env(run), RELAY_FETCH_HEADERS: SLACK_HEADERS });
    assert.equal(config.fetch?.as, "url");
    assert.deepEqual(config.fetch?.headers, JSON.parse(SLACK_HEADERS));
    assert.equal(config.cursor, undefined);
  });

  it("refuses fetch headers kept in plaintext, before creating anything and without showing them", async () => {
    await assert.rejects(runProgram(devWith({ "ws-relay:feedPreset": "slack", "ws-relay:fetchHeaders": SLACK_HEADERS }), { stack: "dev" }), (error: Error) => {
      assert.match(error.message, /ws-relay:fetchHeaders: expected a secret \(pulumi config set --secret fetchHeaders/);
      assert.ok(!error.message.includes("xapp-"), error.message);
      return true;
    });
  });
});

describe("a stack that sets every lifecycle key", () => {
  const config: Record<string, string> = {
    "ws-relay:feedUrl": "wss://feed.example/stream?token={{token}}&cursor={{cursor}}",
    "ws-relay:feedToken": TOKEN,
    "ws-relay:fetchUrl": "https://auth.example/token",
    "ws-relay:fetchMethod": "GET",
    "ws-relay:fetchHeaders": '{"X-Api-Key":"k-4242-not-for-logs"}',
    "ws-relay:fetchBody": '{"scope":"read"}',
    "ws-relay:fetchPointer": "/token",
    "ws-relay:fetchAs": "token",
    "ws-relay:keepAliveUrl": "https://auth.example/keepalive?token={{token}}",
    "ws-relay:keepAliveMethod": "PUT",
    "ws-relay:keepAliveIntervalMs": "600000",
    "ws-relay:ackIdPointer": "/id",
    "ws-relay:ackTemplate": '{"ack":"{{id}}"}',
    "ws-relay:cursorPointer": "/seq",
    "ws-relay:cursorRewind": "10",
    "ws-relay:cursorSaveIntervalMs": "5000",
    "ws-relay:overlapDedupPointer": "/id",
    "ws-relay:overlapDedupWindowSize": "1000",
    "ws-relay:sequencePointer": "/seq",
    "ws-relay:sequenceKeyPointer": "/stream",
    "ws-relay:heartbeatMessage": '{"op":"ping"}',
    "ws-relay:heartbeatIntervalMs": "20000",
    "ws-relay:feedReconnectOn": '"op":"reconnect"',
    "ws-relay:feedDropMatching": '^\\{"op":"pong"',
    "ws-relay:feedPerMessageDeflate": "false",
    "ws-relay:relayMaxConnectionAgeMs": "3600000",
    "ws-relay:relaySqsTimeoutMs": "3000",
    "ws-relay:relayUnhealthyAfterMs": "120000",
  };
  let run: StackRun;
  before(async () => {
    run = await runProgram(devWith(config), { stack: "dev", secretKeys: ["ws-relay:feedToken", "ws-relay:fetchHeaders"] });
  });

  it("passes each key to its variable of the relay's contract", () => {
    const variables = env(run);
    const expected: Record<string, string> = {
      RELAY_URL: config["ws-relay:feedUrl"]!,
      RELAY_FETCH_URL: "https://auth.example/token",
      RELAY_FETCH_METHOD: "GET",
      RELAY_FETCH_BODY: '{"scope":"read"}',
      RELAY_FETCH_POINTER: "/token",
      RELAY_FETCH_AS: "token",
      RELAY_KEEPALIVE_URL: "https://auth.example/keepalive?token={{token}}",
      RELAY_KEEPALIVE_METHOD: "PUT",
      RELAY_KEEPALIVE_INTERVAL_MS: "600000",
      RELAY_ACK_ID_POINTER: "/id",
      RELAY_ACK_TEMPLATE: '{"ack":"{{id}}"}',
      RELAY_CURSOR_POINTER: "/seq",
      RELAY_CURSOR_REWIND: "10",
      RELAY_CURSOR_SSM_PARAMETER: "/ws-relay/dev/relay/cursor",
      RELAY_CURSOR_SAVE_INTERVAL_MS: "5000",
      RELAY_DEDUP_POINTER: "/id",
      RELAY_DEDUP_WINDOW: "1000",
      RELAY_SEQUENCE_POINTER: "/seq",
      RELAY_SEQUENCE_KEY_POINTER: "/stream",
      RELAY_HEARTBEAT_MESSAGE: '{"op":"ping"}',
      RELAY_HEARTBEAT_INTERVAL_MS: "20000",
      RELAY_RECONNECT_ON: '"op":"reconnect"',
      RELAY_DROP_MATCHING: '^\\{"op":"pong"',
      RELAY_PERMESSAGE_DEFLATE: "false",
      RELAY_MAX_CONNECTION_AGE_MS: "3600000",
      RELAY_SQS_TIMEOUT_MS: "3000",
      RELAY_UNHEALTHY_AFTER_MS: "120000",
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(variables[name], value, name);
    assert.equal(variables.RELAY_PRESET, undefined);
  });

  it("hands both credentials over as secrets the execution role alone can read", () => {
    const arns = [secretArn(run, "relay-feed-token"), secretArn(run, "relay-fetch-headers")];
    assert.deepEqual(container(run).secrets, [
      { name: "RELAY_TOKEN", valueFrom: arns[0] },
      { name: "RELAY_FETCH_HEADERS", valueFrom: arns[1] },
    ]);
    const reads = roleStatements(run, "relay-relay-execution").filter((statement) => statement.Action.includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(reads.map((statement) => statement.Resource), arns);
    assert.ok(!JSON.stringify(roleStatements(run, "relay-relay-task")).includes("secretsmanager"));
    for (const { name, value } of container(run).environment) {
      assert.ok(!value.includes("not-for-logs"), name);
    }
  });

  it("gives the relay an environment it parses into the same settings", () => {
    const relay = parseConfig({ ...env(run), RELAY_TOKEN: TOKEN, RELAY_FETCH_HEADERS: config["ws-relay:fetchHeaders"] });
    assert.deepEqual(relay.fetch && { ...relay.fetch, pointer: relay.fetch.pointer.text }, {
      url: "https://auth.example/token",
      method: "GET",
      headers: { "X-Api-Key": "k-4242-not-for-logs" },
      body: '{"scope":"read"}',
      pointer: "/token",
      as: "token",
    });
    assert.deepEqual(relay.keepAlive, { url: "https://auth.example/keepalive?token={{token}}", method: "PUT", intervalMs: 600_000 });
    assert.equal(relay.ack?.idPointer.text, "/id");
    assert.equal(relay.ack?.template, '{"ack":"{{id}}"}');
    assert.equal(relay.cursor?.ssmParameter, "/ws-relay/dev/relay/cursor");
    assert.equal(relay.cursor?.rewind, 10);
    assert.equal(relay.dedup?.windowSize, 1000);
    assert.equal(relay.sequence?.keyPointer?.text, "/stream");
    assert.deepEqual(relay.heartbeat, { message: '{"op":"ping"}', intervalMs: 20_000 });
    assert.equal(relay.reconnectOn?.test('{"op":"reconnect"}'), true);
    assert.equal(relay.dropMatching?.test('{"op":"pong"}'), true);
    assert.equal(relay.perMessageDeflate, false);
    assert.equal(relay.maxConnectionAgeMs, 3_600_000);
    assert.equal(relay.sqsTimeoutMs, 3000);
    assert.equal(relay.unhealthyAfterMs, 120_000);
    assert.equal(relay.headers.Authorization, `Bearer ${TOKEN}`);
  });
});
