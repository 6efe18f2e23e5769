import { Console } from "node:console";
import { Writable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { createHandler, type SqsBatchHandler } from "../consumer/createHandler";
import { FEED_TO_LAMBDA_AGE_METRIC, logEvent } from "../consumer/logEvent";

/**
 * Metrics that hand the feed→Lambda age to the local pipeline instead of writing EMF to stdout
 * (in AWS the log group turns those lines into CloudWatch metrics; here they would only clutter
 * the terminal).
 */
class LocalMetrics extends Metrics {
  constructor(private readonly onAgeMs: (ageMs: number) => void) {
    super({ namespace: "ws-relay", serviceName: "ws-relay-local-consumer" });
  }

  override addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): this {
    if (name === FEED_TO_LAMBDA_AGE_METRIC) this.onAgeMs(value);
    return super.addMetric(name, unit, value);
  }

  override publishStoredMetrics(): this {
    this.clearMetrics();
    return this;
  }
}

export interface LocalConsumerOptions {
  /** Powertools level name: DEBUG, INFO, WARN, ERROR, SILENT. */
  readonly logLevel: string;
  /** Each JSON log line the handler writes. */
  readonly onLogLine: (line: string) => void;
  readonly onAgeMs: (ageMs: number) => void;
}

/**
 * The default consumer exactly as the stack deploys it — `createHandler(logEvent)` — with its log
 * lines and metrics routed to the local pipeline's display.
 */
export function createLocalConsumer(options: LocalConsumerOptions): SqsBatchHandler {
  const logger = new Logger({ serviceName: "ws-relay-local-consumer", logLevel: options.logLevel as "WARN" });
  let partial = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") options.onLogLine(line);
      callback();
    },
  });
  // Powertools prints through a Console of its own on process.stdout, with no option to change it.
  (logger as unknown as { console: Console }).console = new Console({ stdout: sink, stderr: sink });
  return createHandler(logEvent, { logger, metrics: new LocalMetrics(options.onAgeMs) });
}
