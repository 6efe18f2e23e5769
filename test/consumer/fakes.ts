import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";

export interface LoggedLine {
  readonly level: string;
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** A Logger whose lines land in an array instead of stdout. */
export function recordingLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = new Logger({ serviceName: "test", logLevel: "DEBUG" });
  for (const level of ["debug", "info", "warn", "error"] as const) {
    // Instance methods shadow the prototype's; the signature is (message, ...extra objects).
    (logger as unknown as Record<string, unknown>)[level] = (message: string, ...extra: Array<Record<string, unknown>>) => {
      lines.push({ level, message, attributes: Object.assign({}, ...extra) });
    };
  }
  return { logger, lines };
}

export interface RecordedMetric {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

/** A Metrics stand-in that records what handlers add and how often the batch publishes. */
export function recordingMetrics(): { metrics: Metrics; added: RecordedMetric[]; publishes: RecordedMetric[][] } {
  const added: RecordedMetric[] = [];
  const publishes: RecordedMetric[][] = [];
  let stored: RecordedMetric[] = [];
  const metrics = {
    addMetric(name: string, unit: string, value: number) {
      const metric = { name, unit, value };
      added.push(metric);
      stored.push(metric);
      return metrics;
    },
    hasStoredMetrics: () => stored.length > 0,
    publishStoredMetrics() {
      publishes.push(stored);
      stored = [];
      return metrics;
    },
  };
  return { metrics: metrics as unknown as Metrics, added, publishes };
}
