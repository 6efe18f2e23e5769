import type * as pulumi from "@pulumi/pulumi";
import { PRESETS } from "../app/presets";

/** What `readConfig` needs from `pulumi.Config`; a plain object can stand in for it in tests. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
  /** True when the stack holds the key encrypted (`pulumi config set --secret`). */
  isSecret(key: string): boolean;
}

export type Architecture = "arm64" | "x86_64";
export type DedupScope = "queue" | "messageGroup";
export type FetchAs = "url" | "token";

/** Every setting of a stack, read and validated once. Units are in the names. */
export interface RelayStackConfig {
  /** Undefined when the preset supplies the URL or it is fetched before each connect (`fetchAs: url`). */
  readonly feedUrl: string | undefined;
  /** Sent in order after every connect (`RELAY_SUBSCRIBE`). */
  readonly feedSubscribe: readonly unknown[];
  /** Non-secret handshake headers (`RELAY_HEADERS`). */
  readonly feedHeaders: Readonly<Record<string, string>>;
  readonly feedProtocols: readonly string[];
  /** Secret; undefined when the feed needs no token. */
  readonly feedToken: pulumi.Output<string> | undefined;
  readonly feedTokenHeader: string;
  /** "Bearer" by default; "" sends the token raw. */
  readonly feedTokenScheme: string;

  /** Relay tuning passed through to its environment; undefined keeps the relay's default. */
  readonly relayPingIntervalMs: number | undefined;
  readonly relayIdleTimeoutMs: number | undefined;
  readonly relayReconnectMinMs: number | undefined;
  readonly relayReconnectMaxMs: number | undefined;
  readonly relayMaxBufferBytes: number | undefined;
  readonly relayMaxInFlight: number | undefined;
  readonly relayShutdownTimeoutMs: number;
  readonly relayLogLevel: string;
  readonly relaySqsTimeoutMs: number | undefined;
  readonly relayUnhealthyAfterMs: number | undefined;
  readonly relayMaxConnectionAgeMs: number | undefined;

  /**
   * Feed lifecycle (issue 6). Each value is what the stack sets, or undefined: the relay then
   * applies the preset's default, if any, and its own.
   */
  readonly feedPreset: string | undefined;
  readonly feedReconnectOn: string | undefined;
  readonly feedDropMatching: string | undefined;
  readonly feedPerMessageDeflate: boolean | undefined;
  readonly fetchUrl: string | undefined;
  readonly fetchMethod: string | undefined;
  /** Secret: a JSON object of headers that carry credentials (`RELAY_FETCH_HEADERS`). */
  readonly fetchHeaders: pulumi.Output<string> | undefined;
  readonly fetchBody: string | undefined;
  readonly fetchPointer: string | undefined;
  readonly fetchAs: FetchAs | undefined;
  readonly keepAliveUrl: string | undefined;
  readonly keepAliveMethod: string | undefined;
  readonly keepAliveIntervalMs: number | undefined;
  readonly ackIdPointer: string | undefined;
  readonly ackTemplate: string | undefined;
  readonly cursorPointer: string | undefined;
  readonly cursorRewind: number | undefined;
  /**
   * True when a resume cursor is in effect (set here or by the preset): the relay then keeps it in
   * an SSM parameter of its own, saved every `cursorSaveIntervalMs`.
   */
  readonly persistCursor: boolean;
  readonly cursorSaveIntervalMs: number;
  readonly overlapDedupPointer: string | undefined;
  readonly overlapDedupWindowSize: number | undefined;
  readonly sequencePointer: string | undefined;
  readonly sequenceKeyPointer: string | undefined;
  readonly heartbeatMessage: string | undefined;
  readonly heartbeatIntervalMs: number | undefined;

  readonly fifo: boolean;
  readonly messageGroupId: string | undefined;
  readonly dedupId: string | undefined;
  readonly dedupScope: DedupScope;
  readonly maxReceiveCount: number;

  readonly imageTag: string;
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memoryMb: number;
  readonly architecture: Architecture;
  readonly logRetentionDays: number;

  readonly lambdaMemoryMb: number;
  readonly lambdaTimeoutSeconds: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;

  readonly alarmEmail: string | undefined;
  readonly oldestMessageAlarmSeconds: number;

  readonly network: NetworkConfig;
}

export type NetworkConfig =
  | { readonly kind: "existing"; readonly vpcId: string; readonly subnetIds: readonly string[]; readonly assignPublicIp: boolean }
  | { readonly kind: "create"; readonly vpcCidr: string; readonly availabilityZoneCount: number };

/** A stack setting that is missing or wrong. The message names the key, what was expected and what was given. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
// Fargate task sizes (vCPU units → allowed memory in MiB).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
const FARGATE_MEMORY_MB: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
// ECS stopTimeout maximum; the relay needs its shutdown deadline plus a margin below it.
const MAX_STOP_TIMEOUT_SECONDS = 120;
export const STOP_TIMEOUT_MARGIN_SECONDS = 5;

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

/** Reads and validates every key of the `ws-relay` namespace. Throws ConfigError naming the first bad key. */
export function readConfig(source: ConfigSource): RelayStackConfig {
  const read = new Reader(source);

  const lifecycle = readLifecycle(read, source);
  const feedUrl = read.string("feedUrl");
  if (feedUrl === undefined && !lifecycle.urlSupplied) {
    read.fail("feedUrl", "a ws:// or wss:// URL (optional only with a feedPreset that sets one, or with fetchUrl and fetchAs url)", undefined);
  }
  if (feedUrl !== undefined && !/^wss?:\/\/[^\s/]+/.test(feedUrl)) read.fail("feedUrl", "a ws:// or wss:// URL", feedUrl);
  const feedSubscribe = read.array("feedSubscribe");
  lifecycle.checkPlaceholders("feedUrl", feedUrl);
  lifecycle.checkPlaceholders("feedSubscribe", feedSubscribe.length > 0 ? JSON.stringify(feedSubscribe) : undefined);
  const feedToken = read.secret("feedToken", "pulumi config set --secret feedToken <token>");
  const feedTokenHeader = read.string("feedTokenHeader") ?? "Authorization";
  const feedHeaders = read.stringRecord("feedHeaders");
  for (const header of Object.keys(feedHeaders)) {
    if (header.toLowerCase() === feedTokenHeader.toLowerCase()) {
      throw new ConfigError(
        `ws-relay:feedHeaders: header "${header}" carries the token; set it with ` +
          "`pulumi config set --secret feedToken <token>` instead of a plaintext header",
      );
    }
  }

  const fifo = read.boolean("fifo") ?? false;
  const messageGroupId = read.string("messageGroupId");
  const dedupId = read.string("dedupId");
  if (fifo && messageGroupId === undefined) read.fail("messageGroupId", "a literal or a JSON pointer like /product_id (required when fifo is true)", undefined);
  if (!fifo && messageGroupId !== undefined) read.fail("messageGroupId", "unset unless fifo is true", messageGroupId);
  if (!fifo && dedupId !== undefined) read.fail("dedupId", "unset unless fifo is true", dedupId);
  const dedupScope = read.oneOf("dedupScope", ["queue", "messageGroup"] as const) ?? "queue";
  if (!fifo && read.has("dedupScope")) read.fail("dedupScope", "unset unless fifo is true", dedupScope);

  const desiredCount = read.integer("desiredCount", 0, 10) ?? 1;
  // Every relay task opens its own feed connection, so two tasks enqueue every frame twice. Only a
  // FIFO queue with a per-frame dedup id turns the second task into a hot standby.
  if (desiredCount > 1 && !(fifo && dedupId !== undefined)) {
    read.fail("desiredCount", "0 or 1 (more than one relay duplicates every frame unless fifo is true and dedupId is set)", desiredCount);
  }

  const cpu = read.integer("cpu", 256, 16384) ?? 256;
  const memoryMb = read.integer("memoryMb", 512, 122880) ?? 512;
  const allowedMemory = FARGATE_MEMORY_MB[cpu];
  if (allowedMemory === undefined) read.fail("cpu", `one of ${Object.keys(FARGATE_MEMORY_MB).join(", ")}`, cpu);
  if (!allowedMemory.includes(memoryMb)) read.fail("memoryMb", `for cpu ${cpu} one of ${allowedMemory.join(", ")}`, memoryMb);

  const relayShutdownTimeoutMs = read.integer("relayShutdownTimeoutMs", 1000, (MAX_STOP_TIMEOUT_SECONDS - STOP_TIMEOUT_MARGIN_SECONDS) * 1000) ?? 25000;
  const relayMaxBufferBytes = read.integer("relayMaxBufferBytes", 1_048_576, Number.MAX_SAFE_INTEGER);
  // The buffer lives in the task's memory next to Node itself; keep it to half of the task.
  if (relayMaxBufferBytes !== undefined && relayMaxBufferBytes > (memoryMb * 1_048_576) / 2) {
    read.fail("relayMaxBufferBytes", `at most half the task memory (${(memoryMb * 1_048_576) / 2} bytes for memoryMb ${memoryMb})`, relayMaxBufferBytes);
  }
  const relayReconnectMinMs = read.integer("relayReconnectMinMs", 1, 3_600_000);
  const relayReconnectMaxMs = read.integer("relayReconnectMaxMs", 1, 3_600_000);
  if (relayReconnectMinMs !== undefined && relayReconnectMaxMs !== undefined && relayReconnectMaxMs < relayReconnectMinMs) {
    read.fail("relayReconnectMaxMs", `at least relayReconnectMinMs (${relayReconnectMinMs})`, relayReconnectMaxMs);
  }

  const lambdaTimeoutSeconds = read.integer("lambdaTimeoutSeconds", 1, 900) ?? 30;
  // Event source mapping limits: FIFO batches ≤ 10 and no batching window; above 10 a window ≥ 1 s.
  const batchSize = read.integer("batchSize", 1, fifo ? 10 : 10000) ?? 10;
  const batchingWindowSeconds = read.integer("batchingWindowSeconds", 0, fifo ? 0 : 300) ?? 0;
  if (batchSize > 10 && batchingWindowSeconds < 1) read.fail("batchingWindowSeconds", "at least 1 when batchSize is above 10", batchingWindowSeconds);

  const alarmEmail = read.string("alarmEmail");
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) read.fail("alarmEmail", "an e-mail address", alarmEmail);

  return Object.freeze({
    feedUrl,
    feedSubscribe: Object.freeze(feedSubscribe),
    feedHeaders: Object.freeze(feedHeaders),
    feedProtocols: Object.freeze(read.stringArray("feedProtocols")),
    feedToken,
    feedTokenHeader,
    feedTokenScheme: read.string("feedTokenScheme", { allowEmpty: true }) ?? "Bearer",

    relayPingIntervalMs: read.integer("relayPingIntervalMs", 1000, 3_600_000),
    relayIdleTimeoutMs: read.integer("relayIdleTimeoutMs", 1000, 86_400_000),
    relayReconnectMinMs,
    relayReconnectMaxMs,
    relayMaxBufferBytes,
    relayMaxInFlight: read.integer("relayMaxInFlight", 1, 100),
    relayShutdownTimeoutMs,
    relayLogLevel: read.oneOf("relayLogLevel", LOG_LEVELS) ?? "info",
    relaySqsTimeoutMs: read.integer("relaySqsTimeoutMs", 100, 60_000),
    relayUnhealthyAfterMs: read.integer("relayUnhealthyAfterMs", 1000, 86_400_000),
    relayMaxConnectionAgeMs: readMaxConnectionAge(read),
    ...lifecycle.values,

    fifo,
    messageGroupId,
    dedupId,
    dedupScope,
    maxReceiveCount: read.integer("maxReceiveCount", 1, 1000) ?? 5,

    imageTag: readImageTag(read),
    desiredCount,
    cpu,
    memoryMb,
    architecture: read.oneOf("architecture", ["arm64", "x86_64"] as const) ?? "arm64",
    logRetentionDays: read.oneOf("logRetentionDays", LOG_RETENTION_DAYS) ?? 14,

    lambdaMemoryMb: read.integer("lambdaMemoryMb", 128, 10240) ?? 256,
    lambdaTimeoutSeconds,
    batchSize,
    batchingWindowSeconds,
    maxConcurrency: read.integer("maxConcurrency", 2, 1000) ?? 2,

    alarmEmail,
    oldestMessageAlarmSeconds: read.integer("oldestMessageAlarmSeconds", 60, 1_209_600) ?? 300,

    network: readNetwork(read),
  });
}

// The relay's RELAY_FETCH_METHOD / RELAY_KEEPALIVE_METHOD.
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
// Presets whose pre-connect fetch fails without credentials, with what to put in fetchHeaders.
const PRESET_FETCH_HEADERS: Readonly<Record<string, string>> = {
  slack: `'{"Authorization":"Bearer xapp-…"}' (an app-level token with connections:write)`,
  binance: `'{"X-MBX-APIKEY":"…"}' (the API key)`,
};
// Parameter Store throughput is a per-account, per-region quota shared by every GetParameter and
// PutParameter caller (ThrottlingException "Rate exceeded" beyond it): save at most once a second.
const MIN_CURSOR_SAVE_INTERVAL_MS = 1000;
const DEFAULT_CURSOR_SAVE_INTERVAL_MS = 1000;
// Make-before-break rotation opens a connection and subscribes before closing the old one.
const MIN_CONNECTION_AGE_MS = 10_000;
// RFC 9110 field-name (token), as the relay checks it.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const JSON_POINTER = /^(\/([^~/]|~[01])*)+$/;

type LifecycleValues = Pick<
  RelayStackConfig,
  | "feedPreset" | "feedReconnectOn" | "feedDropMatching" | "feedPerMessageDeflate"
  | "fetchUrl" | "fetchMethod" | "fetchHeaders" | "fetchBody" | "fetchPointer" | "fetchAs"
  | "keepAliveUrl" | "keepAliveMethod" | "keepAliveIntervalMs" | "ackIdPointer" | "ackTemplate"
  | "cursorPointer" | "cursorRewind" | "persistCursor" | "cursorSaveIntervalMs"
  | "overlapDedupPointer" | "overlapDedupWindowSize" | "sequencePointer" | "sequenceKeyPointer"
  | "heartbeatMessage" | "heartbeatIntervalMs"
>;

interface Lifecycle {
  readonly values: LifecycleValues;
  /** The preset supplies RELAY_URL, or the URL is fetched before each connect. */
  readonly urlSupplied: boolean;
  /** Fails when `{{token}}` or `{{cursor}}` in a value has nothing to fill it. */
  checkPlaceholders(key: string, text: string | undefined): void;
}

/**
 * The feed-lifecycle keys. A preset supplies defaults the relay applies itself, so only the keys
 * the stack sets reach the container; the preset's values count here only for the checks that
 * settings go together (a fetch method needs a fetch URL, a cursor needs an SSM parameter…).
 */
function readLifecycle(read: Reader, source: ConfigSource): Lifecycle {
  const feedPreset = read.oneOf("feedPreset", Object.keys(PRESETS));
  const preset: Readonly<Record<string, string>> = feedPreset === undefined ? {} : PRESETS[feedPreset]!;
  const fromPreset = feedPreset === undefined ? "" : ` (feedPreset ${feedPreset} does not set it)`;
  /** Fails when `key` is set but `what` (here or in the preset) is not. */
  const needs = (key: string, value: unknown, present: unknown, what: string) => {
    if (value !== undefined && present === undefined) read.fail(key, `unset unless ${what} is set${fromPreset}`, value);
  };

  const fetchUrl = read.httpUrl("fetchUrl");
  const effectiveFetchUrl = fetchUrl ?? preset.RELAY_FETCH_URL;
  const fetchMethod = read.oneOf("fetchMethod", HTTP_METHODS);
  const fetchBody = read.string("fetchBody");
  const fetchPointer = read.pointer("fetchPointer");
  const fetchAs = read.oneOf("fetchAs", ["url", "token"] as const);
  const fetchHeaders = readFetchHeaders(read, source);
  for (const [key, value] of [["fetchMethod", fetchMethod], ["fetchBody", fetchBody], ["fetchPointer", fetchPointer], ["fetchAs", fetchAs]] as const) {
    needs(key, value, effectiveFetchUrl, "fetchUrl");
  }
  if (fetchHeaders !== undefined && effectiveFetchUrl === undefined) read.fail("fetchHeaders", `unset unless fetchUrl is set${fromPreset}`, "a secret value (not shown)");
  if (effectiveFetchUrl !== undefined && (fetchPointer ?? preset.RELAY_FETCH_POINTER) === undefined) {
    read.fail("fetchPointer", "a JSON pointer to the value in the fetch response, like /url (required with fetchUrl)", undefined);
  }
  const credentials = feedPreset === undefined ? undefined : PRESET_FETCH_HEADERS[feedPreset];
  if (credentials !== undefined && fetchHeaders === undefined) {
    read.fail("fetchHeaders", `the credentials feedPreset ${feedPreset} fetches with: pulumi config set --secret fetchHeaders ${credentials}`, undefined);
  }
  const effectiveFetchAs = effectiveFetchUrl === undefined ? undefined : (fetchAs ?? preset.RELAY_FETCH_AS ?? "token");

  const keepAliveUrl = read.httpUrl("keepAliveUrl");
  const effectiveKeepAliveUrl = keepAliveUrl ?? preset.RELAY_KEEPALIVE_URL;
  const keepAliveMethod = read.oneOf("keepAliveMethod", HTTP_METHODS);
  const keepAliveIntervalMs = read.integer("keepAliveIntervalMs", 1000, 86_400_000);
  needs("keepAliveMethod", keepAliveMethod, effectiveKeepAliveUrl, "keepAliveUrl");
  needs("keepAliveIntervalMs", keepAliveIntervalMs, effectiveKeepAliveUrl, "keepAliveUrl");

  const ackIdPointer = read.pointer("ackIdPointer");
  const ackTemplate = read.string("ackTemplate");
  needs("ackTemplate", ackTemplate, ackIdPointer ?? preset.RELAY_ACK_ID_POINTER, "ackIdPointer");

  const cursorPointer = read.pointer("cursorPointer");
  const persistCursor = (cursorPointer ?? preset.RELAY_CURSOR_POINTER) !== undefined;
  const cursorRewind = read.number("cursorRewind", 0);
  const cursorSaveIntervalMs = read.integer("cursorSaveIntervalMs", MIN_CURSOR_SAVE_INTERVAL_MS, 3_600_000);
  needs("cursorRewind", cursorRewind, persistCursor || undefined, "cursorPointer");
  needs("cursorSaveIntervalMs", cursorSaveIntervalMs, persistCursor || undefined, "cursorPointer");

  const overlapDedupPointer = read.pointer("overlapDedupPointer");
  const overlapDedupWindowSize = read.integer("overlapDedupWindowSize", 1, 10_000_000);
  needs("overlapDedupWindowSize", overlapDedupWindowSize, overlapDedupPointer ?? preset.RELAY_DEDUP_POINTER, "overlapDedupPointer");

  const sequencePointer = read.pointer("sequencePointer");
  const sequenceKeyPointer = read.pointer("sequenceKeyPointer");
  needs("sequenceKeyPointer", sequenceKeyPointer, sequencePointer ?? preset.RELAY_SEQUENCE_POINTER, "sequencePointer");

  const heartbeatMessage = read.string("heartbeatMessage");
  const heartbeatIntervalMs = read.integer("heartbeatIntervalMs", 100, 3_600_000);
  needs("heartbeatIntervalMs", heartbeatIntervalMs, heartbeatMessage ?? preset.RELAY_HEARTBEAT_MESSAGE, "heartbeatMessage");

  const checkPlaceholders = (key: string, text: string | undefined) => {
    if (text === undefined) return;
    if (/\{\{\s*token\s*\}\}/.test(text) && effectiveFetchAs !== "token") {
      read.fail(key, `no {{token}} unless fetchUrl fetches a token (fetchAs token)${fromPreset}`, text);
    }
    if (/\{\{\s*cursor\s*\}\}/.test(text) && !persistCursor) read.fail(key, `no {{cursor}} unless cursorPointer is set${fromPreset}`, text);
  };
  checkPlaceholders("keepAliveUrl", keepAliveUrl);

  return {
    urlSupplied: preset.RELAY_URL !== undefined || effectiveFetchAs === "url",
    checkPlaceholders,
    values: {
      feedPreset,
      feedReconnectOn: read.regex("feedReconnectOn"),
      feedDropMatching: read.regex("feedDropMatching"),
      feedPerMessageDeflate: read.boolean("feedPerMessageDeflate"),
      fetchUrl,
      fetchMethod,
      fetchHeaders,
      fetchBody,
      fetchPointer,
      fetchAs,
      keepAliveUrl,
      keepAliveMethod,
      keepAliveIntervalMs,
      ackIdPointer,
      ackTemplate,
      cursorPointer,
      cursorRewind,
      persistCursor,
      cursorSaveIntervalMs: cursorSaveIntervalMs ?? DEFAULT_CURSOR_SAVE_INTERVAL_MS,
      overlapDedupPointer,
      overlapDedupWindowSize,
      sequencePointer,
      sequenceKeyPointer,
      heartbeatMessage,
      heartbeatIntervalMs,
    },
  };
}

/** `fetchHeaders` carries credentials: only as a Pulumi secret, checked without ever echoing it. */
function readFetchHeaders(read: Reader, source: ConfigSource): pulumi.Output<string> | undefined {
  const headers = read.secret("fetchHeaders", `pulumi config set --secret fetchHeaders '{"Authorization":"Bearer …"}'`);
  if (headers === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source.get("fetchHeaders")!);
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) &&
    Object.entries(parsed).every(([name, value]) => HEADER_NAME.test(name) && typeof value === "string");
  if (!valid) read.fail("fetchHeaders", `a JSON object of header names to string values, like {"Authorization":"Bearer …"}`, "a secret value (not shown)");
  return headers;
}

function readMaxConnectionAge(read: Reader): number | undefined {
  const ageMs = read.integer("relayMaxConnectionAgeMs", 0, 604_800_000);
  if (ageMs !== undefined && ageMs > 0 && ageMs < MIN_CONNECTION_AGE_MS) {
    read.fail("relayMaxConnectionAgeMs", `0 (no rotation) or at least ${MIN_CONNECTION_AGE_MS}`, ageMs);
  }
  return ageMs;
}

function readImageTag(read: Reader): string {
  const tag = read.string("imageTag", {
    required: true,
    hint: "the git SHA of the build: pulumi config set imageTag $(git rev-parse --short HEAD)",
  })!;
  // Docker tag grammar: https://docs.docker.com/reference/cli/docker/image/tag/
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) read.fail("imageTag", "a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})", tag);
  return tag;
}

function readNetwork(read: Reader): NetworkConfig {
  const vpcId = read.string("vpcId");
  const subnetIds = read.stringArray("subnetIds");
  if (vpcId !== undefined || subnetIds.length > 0) {
    if (vpcId === undefined) read.fail("vpcId", "the VPC of subnetIds (set both or neither)", undefined);
    if (subnetIds.length === 0) read.fail("subnetIds", `a list of subnet ids in ${vpcId} (set both or neither)`, undefined);
    for (const key of ["vpcCidr", "availabilityZoneCount"]) {
      if (read.has(key)) read.fail(key, "unset when vpcId/subnetIds name an existing network", read.raw(key));
    }
    // Subnets without a NAT gateway need a public IP to reach ECR, SQS and the feed.
    return { kind: "existing", vpcId, subnetIds: Object.freeze(subnetIds), assignPublicIp: read.boolean("assignPublicIp") ?? false };
  }
  if (read.has("assignPublicIp")) read.fail("assignPublicIp", "unset when the program creates the VPC (its subnets are public)", read.raw("assignPublicIp"));
  const vpcCidr = read.string("vpcCidr") ?? "10.0.0.0/16";
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(vpcCidr);
  const prefix = match ? Number(match[5]) : NaN;
  // One /prefix+4 subnet per zone; AWS allows VPCs from /16 to /28, subnets down to /28.
  if (!match || match.slice(1, 5).some((octet) => Number(octet) > 255) || prefix < 16 || prefix > 24) {
    read.fail("vpcCidr", "an IPv4 CIDR from /16 to /24, like 10.0.0.0/16", vpcCidr);
  }
  return { kind: "create", vpcCidr, availabilityZoneCount: read.integer("availabilityZoneCount", 1, 6) ?? 2 };
}

/** Typed access to the raw strings of `pulumi.Config`; every failure names `ws-relay:<key>`. */
class Reader {
  constructor(private readonly source: ConfigSource) {}

  has(key: string): boolean {
    return this.source.get(key) !== undefined;
  }

  raw(key: string): string | undefined {
    return this.source.get(key);
  }

  fail(key: string, expected: string, given: unknown): never {
    const shown = given === undefined ? "nothing" : JSON.stringify(given);
    throw new ConfigError(`ws-relay:${key}: expected ${expected}, got ${shown}`);
  }

  string(key: string, options: { required?: boolean; allowEmpty?: boolean; hint?: string } = {}): string | undefined {
    const value = this.source.get(key);
    if (value === undefined || (value === "" && !options.allowEmpty)) {
      if (options.required) this.fail(key, options.hint ?? "a value", value);
      return undefined;
    }
    return value;
  }

  /**
   * A key that must be stored encrypted. A plaintext value is refused without being shown: it
   * may already sit in a committed stack file, and then the credential needs rotating.
   */
  secret(key: string, howToSet: string): pulumi.Output<string> | undefined {
    if (!this.has(key)) return undefined;
    if (!this.source.isSecret(key)) {
      throw new ConfigError(
        `ws-relay:${key}: expected a secret (${howToSet}), got a plaintext value (not shown; ` +
          "remove it from the stack file, set it again with --secret, and rotate it if it was committed)",
      );
    }
    return this.source.getSecret(key);
  }

  number(key: string, min: number): number | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min) this.fail(key, `a number of at least ${min}`, value);
    return parsed;
  }

  /** An http(s) URL; `{{token}}` placeholders are allowed anywhere in it. */
  httpUrl(key: string): string | undefined {
    const value = this.string(key);
    if (value !== undefined && !/^https?:\/\/[^\s/?#]+([/?#]\S*)?$/.test(value)) this.fail(key, "an http:// or https:// URL", value);
    return value;
  }

  /** An RFC 6901 JSON pointer into each frame (or response), like /time_us. */
  pointer(key: string): string | undefined {
    const value = this.string(key);
    if (value !== undefined && !JSON_POINTER.test(value)) this.fail(key, "a JSON pointer like /time_us (~ escaped as ~0, / as ~1)", value);
    return value;
  }

  regex(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    try {
      new RegExp(value);
    } catch (error) {
      this.fail(key, `a JavaScript regular expression (${(error as Error).message})`, value);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    return this.fail(key, "true or false", value);
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.fail(key, `an integer from ${min} to ${max}`, value);
    }
    return parsed;
  }

  oneOf<T extends string | number>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    const match = allowed.find((candidate) => String(candidate) === value);
    if (match === undefined) this.fail(key, `one of ${allowed.join(", ")}`, value);
    return match;
  }

  json(key: string, expected: string): unknown {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      return this.fail(key, expected, value);
    }
  }

  array(key: string): unknown[] {
    const value = this.json(key, "a list");
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(key, "a list", value);
    return value;
  }

  stringArray(key: string): string[] {
    const value = this.array(key);
    if (!value.every((item) => typeof item === "string" && item !== "")) this.fail(key, "a list of non-empty strings", value);
    return value as string[];
  }

  stringRecord(key: string): Record<string, string> {
    const value = this.json(key, "a map of header name to string value");
    if (value === undefined) return {};
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.values(value).every((item) => typeof item === "string")) {
      this.fail(key, "a map of header name to string value", value);
    }
    return value as Record<string, string>;
  }
}
