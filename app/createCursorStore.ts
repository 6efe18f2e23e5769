import { SSMClient } from "@aws-sdk/client-ssm";
import type { RelayConfig } from "./config";
import type { CursorStore } from "./CursorTracker";
import { FileCursorStore } from "./FileCursorStore";
import { SsmCursorStore } from "./SsmCursorStore";

/** The configured cursor store: an SSM parameter on AWS, a file locally, or none. */
export function createCursorStore(config: RelayConfig): CursorStore | undefined {
  const cursor = config.cursor;
  if (!cursor) return undefined;
  if (cursor.ssmParameter) {
    const endpoint = process.env.AWS_ENDPOINT_URL_SSM;
    const client = new SSMClient({
      ...(endpoint ? { endpoint } : {}),
      requestHandler: { connectionTimeout: 3_000, requestTimeout: config.sqsTimeoutMs, throwOnRequestTimeout: true },
    });
    return new SsmCursorStore(client, cursor.ssmParameter, config.sqsTimeoutMs);
  }
  if (cursor.file) return new FileCursorStore(cursor.file);
  // Without a store the cursor still serves reconnects within the process, not restarts.
  let kept: string | undefined;
  return {
    description: "memory (set RELAY_CURSOR_FILE or RELAY_CURSOR_SSM_PARAMETER to keep it across restarts)",
    load: async () => kept,
    save: async (value) => void (kept = value),
  };
}
