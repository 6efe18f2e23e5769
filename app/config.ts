import { z } from "zod";
import { JsonPointer } from "./JsonPointer";
import { PRESETS, withPreset } from "./presets";

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
  /** The preset whose defaults were applied, if any. */
  readonly preset: string | undefined;
  readonly perMessageDeflate: boolean;
  /** Before each connect, fetch the URL or a token over HTTP. */
  readonly fetch: FetchConfig | undefined;
  /** A call that keeps the fetched token alive (Binance listenKey). */
  readonly keepAlive: { readonly url: string; readonly method: string; readonly intervalMs: number } | undefined;
  readonly ack: { readonly idPointer: JsonPointer; readonly template: string } | undefined;
  readonly cursor: CursorConfig | undefined;
  readonly dedup: { readonly pointer: JsonPointer; readonly windowSize: number } | undefined;
  /** Planned rotation, make-before-break (0 = off). */
  readonly maxConnectionAgeMs: number;
  /** A frame matching this asks for a new connection (Slack `disconnect`); it is not forwarded. */
  readonly reconnectOn: RegExp | undefined;
  /** Frames matching this are not forwarded (feed heartbeats); they still count as liveness. */
  readonly dropMatching: RegExp | undefined;
  readonly sequence: { readonly pointer: JsonPointer; readonly keyPointer: JsonPointer | undefined } | undefined;
  readonly heartbeat: { readonly message: string; readonly intervalMs: number } | undefined;
}

export interface FetchConfig {
  readonly url: string;
  readonly method: string;
  /** May carry credentials: never log. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  readonly pointer: JsonPointer;
  /** `url`: the value is the WebSocket URL; `token`: the value fills `{{token}}`. */
  readonly as: "url" | "token";
}

export interface CursorConfig {
  readonly pointer: JsonPointer;
  /** Subtracted from a numeric cursor when resuming (feed units, e.g. µs for Jetstream). */
  readonly rewind: number;
  readonly file: string | undefined;
  readonly ssmParameter: string | undefined;
  readonly saveIntervalMs: number;
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

/** A ws:// or wss:// URL, possibly with {{token}} / {{cursor}} placeholders. */
function wsUrlTemplate(env: Env, name: string): string {
  const raw = required(env, name);
  let url: URL;
  try {
    url = new URL(raw.replace(/\{\{\s*\w+\s*\}\}/g, "x"));
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

function pointer(env: Env, name: string): JsonPointer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  try {
    return JsonPointer.parse(raw);
  } catch (error) {
    throw new ConfigError(name, "an RFC 6901 JSON pointer such as /envelope_id", `${shown(raw)} (${(error as Error).message})`);
  }
}

function regex(env: Env, name: string): RegExp | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  try {
    return new RegExp(raw);
  } catch (error) {
    throw new ConfigError(name, "a JavaScript regular expression", `${shown(raw)} (${(error as Error).message})`);
  }
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  throw new ConfigError(name, "true or false", shown(env[name] ?? ""));
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

function httpMethod(env: Env, name: string, fallback: string): string {
  const raw = (env[name] ?? "").trim().toUpperCase() || fallback;
  if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(raw)) throw new ConfigError(name, "GET, POST, PUT, PATCH or DELETE", shown(env[name] ?? ""));
  return raw;
}

const headersSchema = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string());
const subscribeSchema = z.array(z.unknown());

/** Reads the relay's configuration once, from the environment, into a frozen object. */
export function parseConfig(rawEnv: Env): RelayConfig {
  const { env, unknown } = withPreset(rawEnv);
  if (unknown !== undefined) throw new ConfigError("RELAY_PRESET", `one of ${Object.keys(PRESETS).join(", ")}`, shown(unknown));
  const fetchAs = (env.RELAY_FETCH_AS ?? "token").trim() || "token";
  if (fetchAs !== "url" && fetchAs !== "token") throw new ConfigError("RELAY_FETCH_AS", "url or token", shown(fetchAs));
  const fetchUrl = httpUrl(env, "RELAY_FETCH_URL", true);
  // With the URL fetched before each connect (Slack), RELAY_URL is not needed.
  const url = fetchUrl && fetchAs === "url" && !env.RELAY_URL ? "" : wsUrlTemplate(env, "RELAY_URL");
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

  const fetchPointer = pointer(env, "RELAY_FETCH_POINTER");
  if (fetchUrl && !fetchPointer) throw new ConfigError("RELAY_FETCH_POINTER", "a JSON pointer to the value in the fetch response (e.g. /url)", "nothing");
  const fetchConfig: FetchConfig | undefined =
    fetchUrl && fetchPointer
      ? Object.freeze({
          url: fetchUrl,
          method: httpMethod(env, "RELAY_FETCH_METHOD", "POST"),
          headers: Object.freeze({ ...json(env, "RELAY_FETCH_HEADERS", headersSchema, "a JSON object of header names to string values", true) }),
          body: text(env, "RELAY_FETCH_BODY"),
          pointer: fetchPointer,
          as: fetchAs,
        })
      : undefined;
  const keepAliveUrl = text(env, "RELAY_KEEPALIVE_URL");
  if (keepAliveUrl && !/^https?:\/\//.test(keepAliveUrl)) throw new ConfigError("RELAY_KEEPALIVE_URL", "an http:// or https:// URL (may contain {{token}})", shown(keepAliveUrl));
  const ackPointer = pointer(env, "RELAY_ACK_ID_POINTER");
  const cursorPointer = pointer(env, "RELAY_CURSOR_POINTER");
  const dedupPointer = pointer(env, "RELAY_DEDUP_POINTER");
  const sequencePointer = pointer(env, "RELAY_SEQUENCE_POINTER");
  const heartbeatMessage = text(env, "RELAY_HEARTBEAT_MESSAGE");
  const cursorRewindRaw = env.RELAY_CURSOR_REWIND?.trim() ?? "";
  const cursorRewind = cursorRewindRaw === "" ? 0 : Number(cursorRewindRaw);
  if (!Number.isFinite(cursorRewind) || cursorRewind < 0) throw new ConfigError("RELAY_CURSOR_REWIND", "a number ≥ 0 in the cursor's own units", shown(cursorRewindRaw));
  const cursorFile = text(env, "RELAY_CURSOR_FILE");
  const cursorSsm = text(env, "RELAY_CURSOR_SSM_PARAMETER");
  if (cursorSsm && !/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(cursorSsm)) throw new ConfigError("RELAY_CURSOR_SSM_PARAMETER", "an SSM parameter name such as /ws-relay/dev/cursor", shown(cursorSsm));
  if ((cursorFile || cursorSsm) && !cursorPointer) throw new ConfigError("RELAY_CURSOR_POINTER", "a JSON pointer to each frame's cursor (e.g. /time_us) when a cursor store is set", "nothing");

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
    preset: text(env, "RELAY_PRESET"),
    perMessageDeflate: boolean(env, "RELAY_PERMESSAGE_DEFLATE", true),
    fetch: fetchConfig,
    keepAlive: keepAliveUrl
      ? Object.freeze({ url: keepAliveUrl, method: httpMethod(env, "RELAY_KEEPALIVE_METHOD", "PUT"), intervalMs: integer(env, "RELAY_KEEPALIVE_INTERVAL_MS", 30 * 60_000, 1_000) })
      : undefined,
    ack: ackPointer ? Object.freeze({ idPointer: ackPointer, template: text(env, "RELAY_ACK_TEMPLATE") ?? '{"envelope_id":"{{id}}"}' }) : undefined,
    cursor: cursorPointer
      ? Object.freeze({ pointer: cursorPointer, rewind: cursorRewind, file: cursorFile, ssmParameter: cursorSsm, saveIntervalMs: integer(env, "RELAY_CURSOR_SAVE_INTERVAL_MS", 1_000, 10) })
      : undefined,
    dedup: dedupPointer ? Object.freeze({ pointer: dedupPointer, windowSize: integer(env, "RELAY_DEDUP_WINDOW", 50_000, 1, 10_000_000) }) : undefined,
    maxConnectionAgeMs: integer(env, "RELAY_MAX_CONNECTION_AGE_MS", 0, 0),
    reconnectOn: regex(env, "RELAY_RECONNECT_ON"),
    dropMatching: regex(env, "RELAY_DROP_MATCHING"),
    sequence: sequencePointer ? Object.freeze({ pointer: sequencePointer, keyPointer: pointer(env, "RELAY_SEQUENCE_KEY_POINTER") }) : undefined,
    heartbeat: heartbeatMessage ? Object.freeze({ message: heartbeatMessage, intervalMs: integer(env, "RELAY_HEARTBEAT_INTERVAL_MS", 30_000, 10) }) : undefined,
  });
}
