import { z } from "zod";
import { JsonPointer } from "./JsonPointer";

/** A literal value, or an RFC 6901 pointer resolved against each JSON frame. */
export type FieldSource = { readonly kind: "literal"; readonly value: string } | { readonly kind: "pointer"; readonly pointer: JsonPointer };

export interface RelayConfig {
  readonly url: string;
  readonly queueUrl: string;
  /** True when the queue URL names a FIFO queue (`.fifo`). */
  readonly fifo: boolean;
  /** Handshake headers, token header included. Never log these. */
  readonly headers: Readonly<Record<string, string>>;
  readonly subscribe: readonly string[];
  readonly protocols: readonly string[];
  readonly pingIntervalMs: number;
  /** 0 turns the idle deadline off. */
  readonly idleTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly maxBufferBytes: number;
  readonly maxInFlight: number;
  readonly messageGroupId: FieldSource | undefined;
  readonly dedupId: FieldSource | undefined;
  /** 0 turns the HTTP server off. */
  readonly healthPort: number;
  /** /healthz turns 503 after the feed has been disconnected this long. */
  readonly unhealthyAfterMs: number;
  readonly shutdownTimeoutMs: number;
  readonly sqsTimeoutMs: number;
  /** When set, every SQS call goes here whatever host the queue URL names. */
  readonly sqsEndpoint: string | undefined;
  readonly logLevel: string;
}

/** Bad configuration: the message names the variable, what was expected and what was given. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    given: string,
  ) {
    super(`${variable}: expected ${expected}, got ${given}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Shows a given value in an error message; values that may hold secrets are never echoed. */
function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

function hidden(value: string): string {
  return `a value of ${value.length} characters (not shown: it may contain secrets)`;
}

/** Strips user info and query values so a URL can be shown without leaking a token. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password) {
      url.username = "***";
      url.password = "";
    }
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "***");
    return url.toString();
  } catch {
    return "<unparseable URL>";
  }
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new ConfigError(name, "a value (it is required)", "nothing");
  return value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(name, `a whole number ${range}`, shown(raw));
  }
  return value;
}

function wsUrl(env: Env, name: string): string {
  const raw = required(env, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, "a ws:// or wss:// URL", hidden(raw));
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new ConfigError(name, "a ws:// or wss:// URL", `a URL with scheme ${shown(url.protocol)}`);
  }
  return raw;
}

function httpUrl(env: Env, name: string, optional: true): string | undefined;
function httpUrl(env: Env, name: string, optional?: false): string;
function httpUrl(env: Env, name: string, optional = false): string | undefined {
  const raw = env[name];
  if (optional && (raw === undefined || raw.trim() === "")) return undefined;
  const value = required(env, name);
  // Checked by shape, not with new URL(): emulators hand out hosts such as
  // sqs.us-east-1.127.0.0.1 that the WHATWG parser rejects but an endpoint override makes moot.
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s]*)?$/.test(value)) {
    throw new ConfigError(name, "an http:// or https:// URL", shown(value));
  }
  return value;
}

function json<T>(env: Env, name: string, schema: z.ZodType<T>, expected: string, secret: boolean): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const given = secret ? hidden(raw) : shown(raw);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, `${expected} in JSON`, `text that is not JSON: ${given}`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new ConfigError(name, expected, given);
  return result.data;
}

function fieldSource(env: Env, name: string, maxLength: number): FieldSource | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (raw.startsWith("/")) {
    try {
      return { kind: "pointer", pointer: JsonPointer.parse(raw) };
    } catch (error) {
      throw new ConfigError(name, "an RFC 6901 JSON pointer such as /product_id", `${shown(raw)} (${(error as Error).message})`);
    }
  }
  // SQS: MessageGroupId and MessageDeduplicationId are at most 128 characters.
  if (raw.length > maxLength || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(name, `a literal of 1–${maxLength} printable ASCII characters, or a JSON pointer starting with /`, shown(raw));
  }
  return { kind: "literal", value: raw };
}

const headersSchema = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string());
const subscribeSchema = z.array(z.unknown());

/** Reads the relay's configuration once, from the environment, into a frozen object. */
export function parseConfig(env: Env): RelayConfig {
  const url = wsUrl(env, "RELAY_URL");
  const queueUrl = httpUrl(env, "RELAY_QUEUE_URL");
  const headers: Record<string, string> = {
    ...json(env, "RELAY_HEADERS", headersSchema, "a JSON object of header names to string values", true),
  };
  const token = env.RELAY_TOKEN;
  if (token !== undefined && token !== "") {
    const headerName = env.RELAY_TOKEN_HEADER?.trim() || "Authorization";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(headerName)) {
      throw new ConfigError("RELAY_TOKEN_HEADER", "an HTTP header name", shown(headerName));
    }
    const scheme = env.RELAY_TOKEN_SCHEME ?? "Bearer";
    headers[headerName] = scheme === "" ? token : `${scheme} ${token}`;
  }
  const subscribe = (json(env, "RELAY_SUBSCRIBE", subscribeSchema, "a JSON array of messages", false) ?? []).map((message) =>
    typeof message === "string" ? message : JSON.stringify(message),
  );
  const protocols = (env.RELAY_PROTOCOLS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const protocol of protocols) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(protocol)) {
      throw new ConfigError("RELAY_PROTOCOLS", "comma-separated subprotocol names (RFC 6455 tokens)", shown(env.RELAY_PROTOCOLS ?? ""));
    }
  }
  const reconnectMinMs = integer(env, "RELAY_RECONNECT_MIN_MS", 250, 1);
  const reconnectMaxMs = integer(env, "RELAY_RECONNECT_MAX_MS", 30_000, 1);
  if (reconnectMaxMs < reconnectMinMs) {
    throw new ConfigError("RELAY_RECONNECT_MAX_MS", `a value ≥ RELAY_RECONNECT_MIN_MS (${reconnectMinMs})`, shown(String(reconnectMaxMs)));
  }
  const fifo = queueUrl.split(/[?#]/)[0]!.endsWith(".fifo");
  const messageGroupId = fieldSource(env, "RELAY_MESSAGE_GROUP_ID", 128);
  const dedupId = fieldSource(env, "RELAY_DEDUP_ID", 128);
  if (!fifo && messageGroupId) {
    throw new ConfigError("RELAY_MESSAGE_GROUP_ID", "to be set only for a FIFO queue (RELAY_QUEUE_URL ending in .fifo)", shown(env.RELAY_MESSAGE_GROUP_ID ?? ""));
  }
  if (!fifo && dedupId) {
    throw new ConfigError("RELAY_DEDUP_ID", "to be set only for a FIFO queue (RELAY_QUEUE_URL ending in .fifo)", shown(env.RELAY_DEDUP_ID ?? ""));
  }
  const logLevel = (env.LOG_LEVEL ?? "info").trim() || "info";
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError("LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")}`, shown(logLevel));

  const sqsEndpointVariable = env.AWS_ENDPOINT_URL_SQS ? "AWS_ENDPOINT_URL_SQS" : "AWS_ENDPOINT_URL";
  return Object.freeze({
    url,
    queueUrl,
    fifo,
    headers: Object.freeze(headers),
    subscribe: Object.freeze(subscribe),
    protocols: Object.freeze(protocols),
    pingIntervalMs: integer(env, "RELAY_PING_INTERVAL_MS", 15_000, 100),
    idleTimeoutMs: integer(env, "RELAY_IDLE_TIMEOUT_MS", 0, 0),
    reconnectMinMs,
    reconnectMaxMs,
    maxBufferBytes: integer(env, "RELAY_MAX_BUFFER_BYTES", 32 * 1024 * 1024, 1024),
    maxInFlight: integer(env, "RELAY_MAX_IN_FLIGHT", 8, 1, 1000),
    messageGroupId,
    dedupId,
    healthPort: integer(env, "RELAY_HEALTH_PORT", 8080, 0, 65535),
    unhealthyAfterMs: integer(env, "RELAY_UNHEALTHY_AFTER_MS", 300_000, 1000),
    shutdownTimeoutMs: integer(env, "RELAY_SHUTDOWN_TIMEOUT_MS", 25_000, 100),
    sqsTimeoutMs: integer(env, "RELAY_SQS_TIMEOUT_MS", 5_000, 100),
    sqsEndpoint: httpUrl(env, sqsEndpointVariable, true),
    logLevel,
  });
}
