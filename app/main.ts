import { ConfigError, parseConfig } from "./config";
import { createLogger } from "./createLogger";
import { createSqsSender } from "./createSqsSender";
import { createCursorStore } from "./createCursorStore";
import { HealthServer } from "./HealthServer";
import { Relay } from "./Relay";

/** Entry point of the container and of `npm run relay`: everything is configured by environment. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ws-relay: bad configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const sqs = createSqsSender({ endpoint: config.sqsEndpoint, maxSockets: config.maxInFlight * 2 });
  const relay = new Relay(config, { sqs, logger, cursorStore: createCursorStore(config) });
  const health = config.healthPort === 0 ? undefined : new HealthServer({ source: relay, registry: relay.metrics.registry, unhealthyAfterMs: config.unhealthyAfterMs });
  if (health) {
    try {
      const port = await health.listen(config.healthPort);
      logger.info({ port }, "health and metrics listening");
    } catch (error) {
      logger.fatal({ err: (error as Error).message, port: config.healthPort }, "RELAY_HEALTH_PORT: cannot listen");
      process.exit(2);
    }
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "already shutting down");
      return;
    }
    stopping = true;
    const deadlineAtMs = Date.now() + config.shutdownTimeoutMs;
    logger.info({ signal, shutdownTimeoutMs: config.shutdownTimeoutMs }, "signal received");
    relay.shutdown(deadlineAtMs).then(
      async ({ undelivered }) => {
        await health?.close();
        sqs.destroy();
        process.exitCode = undelivered > 0 ? 1 : 0;
        logger.flush();
        // Sockets the SDK keeps alive would otherwise hold the process open past the deadline.
        setImmediate(() => process.exit());
      },
      (error: Error) => {
        logger.fatal({ err: error.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  await relay.start();
}

main().catch((error: Error) => {
  process.stderr.write(`ws-relay: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
