/**
 * Presets are thin layers: each only supplies environment defaults for the generic settings, and
 * any variable the user sets wins. See the README for what each one sets and why.
 */
export const PRESETS: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  // Coinbase Exchange: subscribe within ~5 s (sent at once on every connect); heartbeats once a
  // second per product keep the idle deadline honest and stay out of the queue. Gap detection
  // is not on by default: ticker messages carry the product's sequence but skip numbers by
  // design; it is meaningful on the `full` channel (see the README).
  coinbase: {
    RELAY_URL: "wss://ws-feed.exchange.coinbase.com",
    RELAY_SUBSCRIBE: '[{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat","ticker"]}]',
    RELAY_DROP_MATCHING: '^\\{"type":"(heartbeat|subscriptions)"',
    RELAY_IDLE_TIMEOUT_MS: "30000",
  },
  // Binance user-data stream: a listenKey fetched by REST before each connect and kept alive
  // every 30 min; the server closes every connection after 24 h, so rotate before that.
  binance: {
    RELAY_FETCH_URL: "https://api.binance.com/api/v3/userDataStream",
    RELAY_FETCH_METHOD: "POST",
    RELAY_FETCH_POINTER: "/listenKey",
    RELAY_FETCH_AS: "token",
    RELAY_URL: "wss://stream.binance.com:9443/ws/{{token}}",
    RELAY_KEEPALIVE_URL: "https://api.binance.com/api/v3/userDataStream?listenKey={{token}}",
    RELAY_KEEPALIVE_METHOD: "PUT",
    RELAY_KEEPALIVE_INTERVAL_MS: String(30 * 60_000),
    RELAY_MAX_CONNECTION_AGE_MS: String(23 * 60 * 60_000),
  },
  // Bluesky Jetstream: resume with ?cursor=<unix µs>, rewound a few seconds; the replayed
  // overlap is dropped by time_us.
  jetstream: {
    RELAY_URL: "wss://jetstream2.us-east.bsky.network/subscribe?cursor={{cursor}}",
    RELAY_CURSOR_POINTER: "/time_us",
    RELAY_CURSOR_REWIND: "3000000",
    RELAY_DEDUP_POINTER: "/time_us",
  },
  // Slack Socket Mode: a single-use URL from apps.connections.open before every connect; ack
  // every envelope; a `disconnect` message asks for a new connection before the old one closes.
  slack: {
    RELAY_FETCH_URL: "https://slack.com/api/apps.connections.open",
    RELAY_FETCH_METHOD: "POST",
    RELAY_FETCH_POINTER: "/url",
    RELAY_FETCH_AS: "url",
    RELAY_ACK_ID_POINTER: "/envelope_id",
    RELAY_ACK_TEMPLATE: '{"envelope_id":"{{id}}"}',
    RELAY_RECONNECT_ON: '"type":\\s*"disconnect"',
    RELAY_DROP_MATCHING: '^\\{"type":\\s*"hello"',
    RELAY_DEDUP_POINTER: "/envelope_id",
  },
});

/** The environment with the preset's defaults under it; unknown presets are a config error. */
export function withPreset(env: Readonly<Record<string, string | undefined>>): { env: Readonly<Record<string, string | undefined>>; unknown?: string } {
  const name = env.RELAY_PRESET?.trim();
  if (!name) return { env };
  const preset = PRESETS[name];
  if (!preset) return { env, unknown: name };
  const merged: Record<string, string | undefined> = { ...preset };
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== "") merged[key] = value;
  return { env: merged };
}
