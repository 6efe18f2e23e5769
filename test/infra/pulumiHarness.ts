import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const ACCOUNT_ID = "123456789012";
export const STACKS = ["dev", "prod"] as const;
export type StackName = (typeof STACKS)[number];

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  // Mock inputs are untyped by nature; tests narrow them with assertions.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: any;
}

export interface StackRun {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly region: string;
  /** Resources of one type, e.g. "aws:sqs/queue:Queue". */
  ofType(type: string): RecordedResource[];
  /** The one resource of this type and logical name. */
  one(type: string, name: string): RecordedResource;
}

/**
 * The stack file's config as Pulumi hands it to the program: every value a string, structured
 * values JSON-encoded. Provider keys (aws:region) are returned too.
 */
export function stackConfig(stack: StackName): Record<string, string> {
  const file = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(file.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

/** Values a deploy sets outside the stack file (CI: the git SHA). */
export const DEPLOY_TIME_CONFIG = { "ws-relay:imageTag": "0123abc" };

/** The physical name the mocks give a resource: its explicit name, or a Pulumi-style auto-name. */
export function physicalName(type: string, name: string, inputs: Record<string, unknown>): string {
  if (typeof inputs.name === "string") return inputs.name;
  if (typeof inputs.dashboardName === "string") return inputs.dashboardName;
  return `${name}-${type.length.toString(16)}f00d`;
}

/**
 * Runs infra/index.ts (or `options.program`, whose returned outputs stand for the stack's) under Pulumi mocks with the given config (keys like "ws-relay:feedUrl") and
 * returns every resource the program registered with its inputs, and the stack outputs.
 */
export async function runProgram(
  config: Record<string, string>,
  options: { stack?: string; secretKeys?: string[]; program?: () => Record<string, unknown> } = {},
): Promise<StackRun> {
  const region = config["aws:region"] ?? "eu-west-1";
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        const name = physicalName(args.type, args.name, args.inputs);
        const service = args.type.split(":")[1]?.split("/")[0] ?? "x";
        const state: Record<string, unknown> = {
          ...args.inputs,
          name,
          arn: `arn:aws:${service}:${region}:${ACCOUNT_ID}:${name}`,
        };
        if (args.type === "aws:sqs/queue:Queue") state.url = `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${name}`;
        if (args.type === "awsx:ecr:Repository") state.url = `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${name}`;
        if (args.type === "awsx:ecr:Image") state.imageUri = `${args.inputs.repositoryUrl}:${args.inputs.imageTag}`;
        return { id: `${name}-id`, state };
      },
      call(args) {
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { region, name: region, id: region };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`, userId: "test", id: ACCOUNT_ID };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["a", "b", "c", "d"].map((zone) => `${region}${zone}`), zoneIds: [], id: region };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    "ws-relay",
    options.stack ?? "test",
    false,
  );
  // Each run evaluates the program afresh: drop the cached infra modules (config is read at import).
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(path.join(REPO_ROOT, "infra") + path.sep)) delete require.cache[key];
  }
  const program = options.program ? options.program() : (require(path.join(REPO_ROOT, "infra", "index.ts")) as Record<string, unknown>);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (pulumi.Output.isInstance(value)) outputs[key] = await outputValue(value);
  }
  // Let every registration the program started reach the mocks.
  await pulumi.runtime.disconnect();
  return {
    resources,
    outputs,
    region,
    ofType: (type) => resources.filter((resource) => resource.type === type),
    one(type, name) {
      const matches = resources.filter((resource) => resource.type === type && resource.name === name);
      if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
      return matches[0]!;
    },
  };
}

export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}
