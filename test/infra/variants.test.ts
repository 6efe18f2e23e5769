import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { DEPLOY_TIME_CONFIG, physicalName, runProgram, stackConfig, type StackRun } from "./pulumiHarness";

const TOKEN = "tok-3f9a1c77e2b54d0e9b1a-not-for-logs";

function containerDefinition(run: StackRun) {
  const [taskDefinition] = run.ofType("aws:ecs/taskDefinition:TaskDefinition");
  return (JSON.parse(taskDefinition!.inputs.containerDefinitions as string) as Array<{
    environment: Array<{ name: string; value: string }>;
    secrets: Array<{ name: string; valueFrom: string }>;
  }>)[0]!;
}

describe("a feed token set with `pulumi config set --secret`", () => {
  let run: StackRun;
  before(async () => {
    run = await runProgram(
      { ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG, "ws-relay:feedToken": TOKEN, "ws-relay:feedTokenHeader": "X-Api-Key", "ws-relay:feedTokenScheme": "" },
      { stack: "dev", secretKeys: ["ws-relay:feedToken"] },
    );
  });

  it("reaches the container only through `secrets`, from a Secrets Manager secret holding the value", () => {
    const [secret] = run.ofType("aws:secretsmanager/secret:Secret");
    assert.ok(secret, "a secret is created");
    const [version] = run.ofType("aws:secretsmanager/secretVersion:SecretVersion");
    // Still a Pulumi secret when it reaches the provider: encrypted in the state, masked in output.
    assert.equal(version!.inputs.secretString.value, TOKEN);
    assert.equal(version!.inputs.secretString[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
    const definition = containerDefinition(run);
    assert.deepEqual(definition.secrets, [{ name: "RELAY_TOKEN", valueFrom: `arn:aws:secretsmanager:${run.region}:123456789012:${physicalName(secret.type, secret.name, secret.inputs)}` }]);
    assert.ok(!definition.environment.some((entry) => entry.name === "RELAY_TOKEN"));
    const env = Object.fromEntries(definition.environment.map((entry) => [entry.name, entry.value]));
    assert.equal(env.RELAY_TOKEN_HEADER, "X-Api-Key");
    assert.equal(env.RELAY_TOKEN_SCHEME, "", "empty scheme sends the token raw");
  });

  it("appears in no other resource's inputs", () => {
    for (const resource of run.resources) {
      if (resource.type === "aws:secretsmanager/secretVersion:SecretVersion") continue;
      assert.ok(!JSON.stringify(resource.inputs).includes(TOKEN), `${resource.type} ${resource.name}`);
    }
  });

  it("is readable by the execution role (exactly this secret) and not by the task role", () => {
    const policy = (name: string) => JSON.parse(run.one("aws:iam/rolePolicy:RolePolicy", name).inputs.policy as string) as {
      Statement: Array<{ Action: string[]; Resource: string }>;
    };
    const read = policy("relay-relay-execution").Statement.filter((statement) => statement.Action.includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(read.map((statement) => statement.Resource), [containerDefinition(run).secrets[0]!.valueFrom]);
    assert.ok(!JSON.stringify(policy("relay-relay-task")).includes("secretsmanager"));
  });
});

describe("an existing network and an x86_64 task", () => {
  let run: StackRun;
  before(async () => {
    const config: Record<string, string> = { ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG, "ws-relay:architecture": "x86_64", "ws-relay:vpcId": "vpc-0abc", "ws-relay:subnetIds": '["subnet-1","subnet-2"]', "ws-relay:assignPublicIp": "false" };
    delete config["ws-relay:vpcCidr"];
    delete config["ws-relay:availabilityZoneCount"];
    run = await runProgram(config, { stack: "dev" });
  });

  it("uses the given subnets and VPC and creates no network of its own", () => {
    assert.deepEqual(run.ofType("aws:ec2/vpc:Vpc"), []);
    assert.deepEqual(run.ofType("aws:ec2/subnet:Subnet"), []);
    const [service] = run.ofType("aws:ecs/service:Service");
    assert.deepEqual(service!.inputs.networkConfiguration.subnets, ["subnet-1", "subnet-2"]);
    assert.equal(service!.inputs.networkConfiguration.assignPublicIp, false);
    assert.equal(run.ofType("aws:ec2/securityGroup:SecurityGroup")[0]!.inputs.vpcId, "vpc-0abc");
  });

  it("builds an amd64 image for an X86_64 task", () => {
    assert.equal(run.ofType("awsx:ecr:Image")[0]!.inputs.platform, "linux/amd64");
    assert.equal(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0]!.inputs.runtimePlatform.cpuArchitecture, "X86_64");
  });
});

describe("the program with a bad stack config", () => {
  it("stops before creating anything, naming the key", async () => {
    const config = { ...stackConfig("dev") }; // no imageTag: CI sets it per deploy
    await assert.rejects(runProgram(config, { stack: "dev" }), /ws-relay:imageTag: expected the git SHA/);
  });
});
