import type { RelayStackConfig } from "./config";

export interface EnvironmentEntry {
  readonly name: string;
  readonly value: string;
}

/** The relay listens here for /healthz, /readyz and /metrics (its default). */
export const RELAY_HEALTH_PORT = 8080;

/**
 * The relay container's plaintext environment, per the relay's contract. The feed token is not here:
 * it reaches the container as `RELAY_TOKEN` through the task definition's `secrets`.
 */
export function relayEnvironment(config: RelayStackConfig, queueUrl: string, region: string): EnvironmentEntry[] {
  const entries: Array<[string, string | number | undefined]> = [
    ["RELAY_URL", config.feedUrl],
    ["RELAY_QUEUE_URL", queueUrl],
    ["RELAY_HEADERS", Object.keys(config.feedHeaders).length > 0 ? JSON.stringify(config.feedHeaders) : undefined],
    ["RELAY_SUBSCRIBE", config.feedSubscribe.length > 0 ? JSON.stringify(config.feedSubscribe) : undefined],
    ["RELAY_PROTOCOLS", config.feedProtocols.length > 0 ? config.feedProtocols.join(",") : undefined],
    ["RELAY_PING_INTERVAL_MS", config.relayPingIntervalMs],
    ["RELAY_IDLE_TIMEOUT_MS", config.relayIdleTimeoutMs],
    ["RELAY_RECONNECT_MIN_MS", config.relayReconnectMinMs],
    ["RELAY_RECONNECT_MAX_MS", config.relayReconnectMaxMs],
    ["RELAY_MAX_BUFFER_BYTES", config.relayMaxBufferBytes],
    ["RELAY_MAX_IN_FLIGHT", config.relayMaxInFlight],
    ["RELAY_MESSAGE_GROUP_ID", config.messageGroupId],
    ["RELAY_DEDUP_ID", config.dedupId],
    ["RELAY_HEALTH_PORT", RELAY_HEALTH_PORT],
    ["RELAY_SHUTDOWN_TIMEOUT_MS", config.relayShutdownTimeoutMs],
    ["LOG_LEVEL", config.relayLogLevel],
    ["AWS_REGION", region],
  ];
  if (config.feedToken !== undefined) {
    entries.push(["RELAY_TOKEN_HEADER", config.feedTokenHeader], ["RELAY_TOKEN_SCHEME", config.feedTokenScheme]);
  }
  return entries
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ({ name, value: String(value) }));
}
