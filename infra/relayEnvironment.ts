import type { RelayStackConfig } from "./config";

export interface EnvironmentEntry {
  readonly name: string;
  readonly value: string;
}

/** The relay listens here for /healthz, /readyz and /metrics (its default). */
export const RELAY_HEALTH_PORT = 8080;

/**
 * The relay container's plaintext environment, per the relay's contract. The feed token and the
 * fetch headers are not here: they reach the container as `RELAY_TOKEN` and `RELAY_FETCH_HEADERS`
 * through the task definition's `secrets`. Lifecycle keys the stack leaves unset are left out, so
 * the preset's defaults (applied by the relay) and then the relay's own apply.
 *
 * @param cursorParameterName the SSM parameter the relay keeps its resume cursor in; required
 *   when `config.persistCursor` (the container's root filesystem is read-only: no cursor file).
 */
export function relayEnvironment(config: RelayStackConfig, queueUrl: string, region: string, cursorParameterName?: string): EnvironmentEntry[] {
  if (config.persistCursor && cursorParameterName === undefined) throw new Error("relayEnvironment: a cursor is configured but no SSM parameter name was given");
  const entries: Array<[string, string | number | boolean | undefined]> = [
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
    ["RELAY_SQS_TIMEOUT_MS", config.relaySqsTimeoutMs],
    ["RELAY_UNHEALTHY_AFTER_MS", config.relayUnhealthyAfterMs],
    ["RELAY_PRESET", config.feedPreset],
    ["RELAY_FETCH_URL", config.fetchUrl],
    ["RELAY_FETCH_METHOD", config.fetchMethod],
    ["RELAY_FETCH_BODY", config.fetchBody],
    ["RELAY_FETCH_POINTER", config.fetchPointer],
    ["RELAY_FETCH_AS", config.fetchAs],
    ["RELAY_KEEPALIVE_URL", config.keepAliveUrl],
    ["RELAY_KEEPALIVE_METHOD", config.keepAliveMethod],
    ["RELAY_KEEPALIVE_INTERVAL_MS", config.keepAliveIntervalMs],
    ["RELAY_ACK_ID_POINTER", config.ackIdPointer],
    ["RELAY_ACK_TEMPLATE", config.ackTemplate],
    ["RELAY_CURSOR_POINTER", config.cursorPointer],
    ["RELAY_CURSOR_REWIND", config.cursorRewind],
    ["RELAY_CURSOR_SSM_PARAMETER", config.persistCursor ? cursorParameterName : undefined],
    ["RELAY_CURSOR_SAVE_INTERVAL_MS", config.persistCursor ? config.cursorSaveIntervalMs : undefined],
    ["RELAY_DEDUP_POINTER", config.overlapDedupPointer],
    ["RELAY_DEDUP_WINDOW", config.overlapDedupWindowSize],
    ["RELAY_MAX_CONNECTION_AGE_MS", config.relayMaxConnectionAgeMs],
    ["RELAY_RECONNECT_ON", config.feedReconnectOn],
    ["RELAY_DROP_MATCHING", config.feedDropMatching],
    ["RELAY_SEQUENCE_POINTER", config.sequencePointer],
    ["RELAY_SEQUENCE_KEY_POINTER", config.sequenceKeyPointer],
    ["RELAY_HEARTBEAT_MESSAGE", config.heartbeatMessage],
    ["RELAY_HEARTBEAT_INTERVAL_MS", config.heartbeatIntervalMs],
    ["RELAY_PERMESSAGE_DEFLATE", config.feedPerMessageDeflate],
  ];
  if (config.feedToken !== undefined) {
    entries.push(["RELAY_TOKEN_HEADER", config.feedTokenHeader], ["RELAY_TOKEN_SCHEME", config.feedTokenScheme]);
  }
  return entries
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => ({ name, value: String(value) }));
}
