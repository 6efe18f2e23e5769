import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/** The dev stack's queue and Lambda settings, as the local pipeline mirrors them. */
export interface DevStackSettings {
  readonly maxReceiveCount: number;
  readonly lambdaTimeoutSeconds: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly fifo: boolean;
  /** What infra/WebSocketRelay.ts gives the deployed queue: 6 × Lambda timeout + batching window. */
  readonly deployedVisibilityTimeoutSeconds: number;
}

export const DEV_STACK_FILE = path.resolve(__dirname, "..", "Pulumi.dev.yaml");

/**
 * Reads Pulumi.dev.yaml. Missing keys fall back to the defaults of infra/config.ts (which needs
 * the Pulumi runtime to run, so it is not imported here).
 */
export function readDevStack(file: string = DEV_STACK_FILE): DevStackSettings {
  const document = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config = document?.config ?? {};
  const integer = (key: string, fallback: number): number => {
    const value = config[`ws-relay:${key}`];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new Error(`${file}: ws-relay:${key}: expected a whole number, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const lambdaTimeoutSeconds = integer("lambdaTimeoutSeconds", 30);
  const batchingWindowSeconds = integer("batchingWindowSeconds", 0);
  return Object.freeze({
    maxReceiveCount: integer("maxReceiveCount", 5),
    lambdaTimeoutSeconds,
    batchSize: integer("batchSize", 10),
    batchingWindowSeconds,
    fifo: config["ws-relay:fifo"] === true,
    // infra/WebSocketRelay.ts: AWS recommends a visibility timeout of 6 × the function timeout, plus
    // the batching window during which received messages wait for the invocation.
    deployedVisibilityTimeoutSeconds: 6 * lambdaTimeoutSeconds + batchingWindowSeconds,
  });
}
