import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { PRESETS } from "../app/presets";
import { DEMO_FEED_DEFAULTS, DemoFeed } from "./DemoFeed";
import { readDevStack } from "./devStack";
import { createLocalConsumer } from "./consumerForLocal";
import { LambdaRunner, type RunnerProblem } from "./LambdaRunner";
import { LocalQueues } from "./LocalQueues";
import { DEFAULT_LOCAL_SQS_PORT, LOCAL_AWS_ENV, LOCAL_REGION } from "./localAws";
import { type RelayMetricValues, RelayProcess } from "./RelayProcess";
import { AgeWindow, clock, formatLogLine, formatMs, levelNumber, StatusDisplay } from "./StatusDisplay";

const HELP = `npm start [-- options]

Runs the whole pipeline on this machine: the SQS emulator (queue + DLQ like the dev stack), the
relay (app/main.ts, as the container runs it), a local Lambda runner with the default consumer,
and — without --url — a demo feed. Ctrl-C stops it in order and prints a summary.

Feed
  --url <wss://…>                 a real feed instead of the demo (env RELAY_URL)
  --subscribe <json array>        messages to send after each connect (env RELAY_SUBSCRIBE)
  Every other RELAY_* variable in the environment reaches the relay too (e.g. RELAY_PRESET).

Queue and Lambda (defaults from Pulumi.dev.yaml unless noted)
  --sqs-port <port>               emulator port (default ${DEFAULT_LOCAL_SQS_PORT}, env LOCAL_SQS_PORT; 0 = any free port)
  --max-receive-count <n>         receives before a message moves to the DLQ
  --batch-size <n>                records per invocation at most
  --batching-window-seconds <s>   how long to gather records before invoking
  --visibility-timeout-seconds <s>  default 10 locally, so retries and the DLQ show within a minute
                                  (the deployed queue uses 6 × Lambda timeout + batching window)

Demo feed
  --demo-rate <n>                 ticker events per second (default ${DEMO_FEED_DEFAULTS.eventsPerSecond})
  --demo-hangup-ms <ms>           hang up this long after each subscribe (default ${DEMO_FEED_DEFAULTS.hangupAfterMs}; 0 = never)
  --demo-poison-ms <ms>           send a truncated ticker this often (default ${DEMO_FEED_DEFAULTS.poisonIntervalMs}; 0 = never)
  --demo-heartbeat-ms <ms>        heartbeat interval (default ${DEMO_FEED_DEFAULTS.heartbeatIntervalMs})

Display
  --log-level <level>             relay and consumer log lines shown (default warn; env LOG_LEVEL)
  --status-interval-ms <ms>       status refresh (default 1000 on a terminal, 5000 otherwise)
  -h, --help
`;

class UsageError extends Error {}

interface StartOptions {
  readonly url: string | undefined;
  readonly subscribe: string | undefined;
  readonly sqsPort: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly lambdaTimeoutSeconds: number;
  readonly deployedVisibilityTimeoutSeconds: number;
  readonly deployedLambdaTimeoutSeconds: number;
  readonly demo: { readonly eventsPerSecond: number; readonly hangupAfterMs: number; readonly poisonIntervalMs: number; readonly heartbeatIntervalMs: number };
  readonly logLevel: string;
  readonly statusIntervalMs: number | undefined;
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): StartOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        subscribe: { type: "string" },
        "sqs-port": { type: "string" },
        "max-receive-count": { type: "string" },
        "batch-size": { type: "string" },
        "batching-window-seconds": { type: "string" },
        "visibility-timeout-seconds": { type: "string" },
        "demo-rate": { type: "string" },
        "demo-hangup-ms": { type: "string" },
        "demo-poison-ms": { type: "string" },
        "demo-heartbeat-ms": { type: "string" },
        "log-level": { type: "string" },
        "status-interval-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return "help";
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return value;
  };
  const dev = readDevStack();
  const url = values.url ?? (env.RELAY_URL || undefined);
  const subscribe = values.subscribe ?? (env.RELAY_SUBSCRIBE || undefined);
  if (subscribe !== undefined) {
    try {
      if (!Array.isArray(JSON.parse(subscribe))) throw new Error("not an array");
    } catch {
      throw new UsageError(`--subscribe: expected a JSON array of messages, e.g. '[{"type":"subscribe"}]', got ${JSON.stringify(subscribe)}`);
    }
  }
  const batchingWindowSeconds = integer("--batching-window-seconds", values["batching-window-seconds"], dev.batchingWindowSeconds, 0, 300);
  // SQS visibility timeout: 0 s–12 h; it must outlast the batching window plus the invocation.
  const visibilityTimeoutSeconds = integer("--visibility-timeout-seconds", values["visibility-timeout-seconds"], 10, 1, 43_200);
  if (visibilityTimeoutSeconds <= batchingWindowSeconds) {
    throw new UsageError(`--visibility-timeout-seconds: expected more than the batching window (${batchingWindowSeconds} s), got ${visibilityTimeoutSeconds}`);
  }
  const logLevel = (values["log-level"] ?? env.LOG_LEVEL ?? "warn").trim().toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`);
  return {
    url,
    subscribe,
    sqsPort: integer("--sqs-port", values["sqs-port"] ?? env.LOCAL_SQS_PORT, DEFAULT_LOCAL_SQS_PORT, 0, 65_535),
    maxReceiveCount: integer("--max-receive-count", values["max-receive-count"], dev.maxReceiveCount, 1, 1000),
    batchSize: integer("--batch-size", values["batch-size"], dev.batchSize, 1, 10_000),
    batchingWindowSeconds,
    visibilityTimeoutSeconds,
    // FACTS: the visibility timeout must be ≥ the function timeout; here it must also cover the
    // window during which received messages wait for their invocation (as infra adds it).
    lambdaTimeoutSeconds: Math.min(dev.lambdaTimeoutSeconds, visibilityTimeoutSeconds - batchingWindowSeconds),
    deployedVisibilityTimeoutSeconds: dev.deployedVisibilityTimeoutSeconds,
    deployedLambdaTimeoutSeconds: dev.lambdaTimeoutSeconds,
    demo: {
      eventsPerSecond: integer("--demo-rate", values["demo-rate"], DEMO_FEED_DEFAULTS.eventsPerSecond, 0, 10_000),
      hangupAfterMs: integer("--demo-hangup-ms", values["demo-hangup-ms"], DEMO_FEED_DEFAULTS.hangupAfterMs, 0),
      poisonIntervalMs: integer("--demo-poison-ms", values["demo-poison-ms"], DEMO_FEED_DEFAULTS.poisonIntervalMs, 0),
      heartbeatIntervalMs: integer("--demo-heartbeat-ms", values["demo-heartbeat-ms"], DEMO_FEED_DEFAULTS.heartbeatIntervalMs, 0),
    },
    logLevel,
    statusIntervalMs: values["status-interval-ms"] === undefined ? undefined : integer("--status-interval-ms", values["status-interval-ms"], 1000, 50),
  };
}

/** Counters the status line turns into rates and "what just happened" lines. */
interface Seen {
  frames: number;
  atMs: number;
  reconnects: number;
  dlq: number;
  connected: boolean | undefined;
}

async function main(): Promise<void> {
  // Local runs may be on Node 20 (the deploy targets 22): the SDK's notice about it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let options: StartOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`npm start: ${error.message}\nnpm start -- --help lists the options.\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(HELP);
    return;
  }
  const opts = options;
  const display = new StatusDisplay(process.stdout);
  const minLevel = levelNumber(opts.logLevel);
  const say = (text: string): void => display.log(`${clock()} ${"local".padEnd(8)} ${text}`);
  const startedAtMs = Date.now();
  const ages = new AgeWindow();

  // 1. The emulator, with the queue and DLQ.
  let queues: LocalQueues;
  try {
    queues = await LocalQueues.start({ port: opts.sqsPort, visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds, maxReceiveCount: opts.maxReceiveCount });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(
      code === "EADDRINUSE"
        ? `npm start: port ${opts.sqsPort} is in use (another npm start?). Pass --sqs-port <port> or set LOCAL_SQS_PORT.\n`
        : `npm start: could not start the SQS emulator: ${(error as Error).message}\n`,
    );
    process.exit(1);
  }
  say(`SQS emulator at ${queues.endpoint}: queue ${queues.queue.name}, DLQ ${queues.dlq.name} after ${opts.maxReceiveCount} receives (Pulumi.dev.yaml)`);
  say(
    `visibility timeout ${opts.visibilityTimeoutSeconds} s locally (deployed: ${opts.deployedVisibilityTimeoutSeconds} s); Lambda batch ${opts.batchSize}, window ${opts.batchingWindowSeconds} s, timeout ${opts.lambdaTimeoutSeconds} s (deployed: ${opts.deployedLambdaTimeoutSeconds} s)`,
  );

  // 2. The demo feed, unless a real one is named.
  let feed: DemoFeed | undefined;
  if (opts.url === undefined) {
    feed = await DemoFeed.start({ port: 0, ...opts.demo, subscribeTimeoutMs: DEMO_FEED_DEFAULTS.subscribeTimeoutMs });
    say(`demo feed at ${feed.url} (Coinbase-like ticker; hangs up every ${formatMs(opts.demo.hangupAfterMs)}, a truncated message every ${formatMs(opts.demo.poisonIntervalMs)})`);
  }

  // 3. The Lambda runner with the default consumer.
  const sqs = new SQSClient({
    region: LOCAL_REGION,
    endpoint: queues.endpoint,
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 25_000 },
  });
  const handler = createLocalConsumer({
    logLevel: opts.logLevel === "fatal" ? "CRITICAL" : opts.logLevel.toUpperCase(),
    onLogLine: (line) => {
      const text = formatLogLine("consumer", line, minLevel);
      if (text !== undefined) display.log(text);
    },
    onAgeMs: (ageMs) => ages.add(ageMs),
  });
  const runner = new LambdaRunner({
    sqs,
    queueUrl: queues.queue.url,
    queueArn: queues.queue.arn,
    region: LOCAL_REGION,
    handler,
    batchSize: opts.batchSize,
    batchingWindowMs: opts.batchingWindowSeconds * 1000,
    timeoutMs: opts.lambdaTimeoutSeconds * 1000,
    onProblem: (problem) => {
      if (minLevel <= 40) display.log(`${clock()} ${"lambda".padEnd(8)} WARN  ${describeProblem(problem)}`);
    },
  });
  runner.start();

  // 4. The relay, with the container's environment contract.
  const relayEnv: Record<string, string | undefined> = {
    ...process.env,
    ...LOCAL_AWS_ENV,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    RELAY_QUEUE_URL: queues.queue.url,
    LOG_LEVEL: opts.logLevel,
  };
  if (feed) {
    // The demo speaks Coinbase's protocol, so the relay runs with the same preset as for the real feed.
    relayEnv.RELAY_PRESET = "coinbase";
    relayEnv.RELAY_URL = feed.url;
    relayEnv.RELAY_SUBSCRIBE = opts.subscribe ?? PRESETS.coinbase!.RELAY_SUBSCRIBE;
  } else {
    relayEnv.RELAY_URL = opts.url;
    if (opts.subscribe !== undefined) relayEnv.RELAY_SUBSCRIBE = opts.subscribe;
  }
  for (const [key, value] of Object.entries(relayEnv)) if (value === undefined) delete relayEnv[key];
  const relay = await RelayProcess.spawn({
    env: relayEnv,
    onLine: (line, stream) => {
      const text = formatLogLine("relay", line, stream === "stderr" ? 0 : minLevel);
      if (text !== undefined) display.log(text);
    },
  });
  say(`relay started (node --import tsx app/main.ts; metrics at http://127.0.0.1:${relay.healthPort}/metrics). Ctrl-C stops everything.`);
  say(`DLQ: npm run dlq -- list --endpoint ${queues.endpoint}`);

  // The status line.
  let lastMetrics: RelayMetricValues = {};
  const seen: Seen = { frames: 0, atMs: Date.now(), reconnects: 0, dlq: 0, connected: undefined };
  let framesPerSecond = 0;
  const refresh = async (): Promise<void> => {
    const metrics = await relay.metrics();
    if (metrics) lastMetrics = metrics;
    const now = Date.now();
    const frames = lastMetrics.relay_frames_received_total ?? 0;
    if (now > seen.atMs) framesPerSecond = ((frames - seen.frames) * 1000) / (now - seen.atMs);
    seen.frames = frames;
    seen.atMs = now;
    const connected = relay.running && metrics !== undefined ? metrics.relay_connected === 1 : undefined;
    const reconnects = lastMetrics.relay_reconnects_total ?? 0;
    const queue = queues.depth(queues.queue);
    const dlq = queues.depth(queues.dlq);
    const dlqTotal = dlq.visible + dlq.inFlight + dlq.delayed;
    if (reconnects > seen.reconnects) say(`the relay reconnected to the feed (${reconnects} reconnect${reconnects === 1 ? "" : "s"} so far)`);
    if (dlqTotal > seen.dlq) say(`${dlqTotal - seen.dlq} message(s) moved to the DLQ after ${opts.maxReceiveCount} failed receives — see them: npm run dlq -- list --endpoint ${queues.endpoint}`);
    if (connected === true && seen.connected !== true && reconnects === 0) say("the relay is connected and subscribed; events are flowing");
    seen.reconnects = Math.max(seen.reconnects, reconnects);
    seen.dlq = dlqTotal;
    if (connected !== undefined) seen.connected = connected;
    const state = !relay.running ? "stopped" : connected === undefined ? "starting" : connected ? "connected" : "reconnecting";
    const recent = now - 10_000;
    display.status(
      [
        ...(display.tty ? [] : [clock(), "status  "]),
        `feed=${state}`,
        `frames/s=${framesPerSecond.toFixed(1)}`,
        `enqueued=${lastMetrics.relay_messages_enqueued_total ?? 0}`,
        `queue=${queue.visible + queue.delayed}`,
        `inflight=${queue.inFlight}`,
        `consumed=${runner.stats.consumed}`,
        `failed=${runner.stats.failed}`,
        `dlq=${dlqTotal}`,
        `reconnects=${reconnects}`,
        `age_p50=${formatMs(ages.percentile(50, recent))}`,
        `age_p99=${formatMs(ages.percentile(99, recent))}`,
      ].join(" "),
    );
  };
  let refreshing = Promise.resolve();
  const statusTimer = setInterval(() => {
    refreshing = refreshing.then(refresh);
  }, opts.statusIntervalMs ?? (display.tty ? 1000 : 5000));

  // Shutdown: once, in order — the relay flushes, the runner drains, then the feed and the emulator.
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) {
      say("second signal: stopping now without waiting");
      relay.kill();
      process.exit(130);
    }
    stopping = true;
    say(`${reason}: stopping the relay (it closes the feed and flushes to SQS)`);
    relay.terminate();
    // Scrape while the relay flushes, so the summary has its last counts.
    const scraper = setInterval(() => void relay.metrics().then((m) => m && (lastMetrics = m)), 100);
    const relayCode = await relay.exited;
    clearInterval(scraper);
    say(`relay exited with code ${relayCode}; draining the queue into the consumer`);
    await runner.drain(Date.now() + 5_000 + opts.batchingWindowSeconds * 1000);
    clearInterval(statusTimer);
    await refreshing;
    await refresh();
    display.end();
    await feed?.close();
    const queue = queues.depth(queues.queue);
    const dlq = queues.depth(queues.dlq);
    const queueLeft = queue.visible + queue.delayed + queue.inFlight;
    const dlqTotal = dlq.visible + dlq.inFlight + dlq.delayed;
    sqs.destroy();
    await queues.stop();
    const seconds = Math.round((Date.now() - startedAtMs) / 1000);
    const lines = [
      `summary (ran ${seconds} s):`,
      `  feed       ${feed ? `demo: ${feed.stats.connections} connections, ${feed.stats.tickers} tickers, ${feed.stats.poison} truncated, ${feed.stats.hangups} hang-ups` : opts.url}`,
      `  relay      frames received ${lastMetrics.relay_frames_received_total ?? 0}+ (last scrape before it exited), reconnects ${lastMetrics.relay_reconnects_total ?? 0}, exit code ${relayCode}`,
      // Only the runner deletes, so what SQS accepted is what was consumed, is left, or is in the DLQ.
      `  sqs        messages accepted ${runner.stats.consumed + queueLeft + dlqTotal}`,
      `  consumer   invocations ${runner.stats.invocations}, consumed ${runner.stats.consumed}, failed ${runner.stats.failed} (record attempts)`,
      `  queue      left ${queueLeft} (in flight ${queue.inFlight}); DLQ ${dlqTotal}`,
      `  age        feed→consumer p50 ${formatMs(ages.percentile(50))}, p99 ${formatMs(ages.percentile(99))} over ${ages.count} events`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.exitCode = relayCode === 0 ? 0 : 1;
  };
  process.on("SIGINT", () => void stop("Ctrl-C"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  void relay.exited.then((code) => {
    if (!stopping) {
      say(`the relay exited on its own with code ${code} (see the lines above); stopping`);
      void stop("relay exit");
    }
  });
}

function describeProblem(problem: RunnerProblem): string {
  switch (problem.kind) {
    case "timeout":
      return `invocation of ${problem.records} records passed the ${problem.timeoutMs} ms timeout: the whole batch will be retried`;
    case "invocation":
      return `invocation of ${problem.records} records failed as a whole (${problem.error.name}: ${problem.error.message.split("\n")[0]}): all will be retried`;
    default:
      return `${problem.kind} failed: ${problem.error.message}`;
  }
}

main().catch((error: Error) => {
  process.stderr.write(`npm start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
