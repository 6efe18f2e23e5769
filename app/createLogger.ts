import pino, { type DestinationStream, type Logger } from "pino";

/**
 * JSON lines with header values and tokens redacted wherever they appear; payloads are logged
 * only at debug.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "ws-relay" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["headers", "*.headers", "authorization", "*.authorization", "token", "*.token", "password", "*.password", "secret", "*.secret"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
