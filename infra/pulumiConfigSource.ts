import * as pulumi from "@pulumi/pulumi";
import type { ConfigSource } from "./config";

type IsConfigSecret = (fullKey: string) => boolean;

/**
 * The stack's `ws-relay:` config as `readConfig` reads it. Whether a key is stored encrypted comes
 * from the list of secret keys the Pulumi CLI hands the program (PULUMI_CONFIG_SECRET_KEYS);
 * the SDK reads it with `runtime.isConfigSecret`, present at run time though left out of its typings.
 */
export function pulumiConfigSource(config: pulumi.Config = new pulumi.Config()): ConfigSource {
  const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: IsConfigSecret }).isConfigSecret;
  return {
    get: (key) => config.get(key),
    getSecret: (key) => config.getSecret(key),
    isSecret(key) {
      // Without it no secret could be told from plaintext: refuse to guess.
      if (typeof isConfigSecret !== "function") throw new Error("@pulumi/pulumi no longer provides runtime.isConfigSecret; update infra/pulumiConfigSource.ts");
      return isConfigSecret(`${config.name}:${key}`);
    },
  };
}
