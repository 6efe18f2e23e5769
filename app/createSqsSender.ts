import { SQSClient } from "@aws-sdk/client-sqs";
import { SqsJsonSender } from "./SqsJsonSender";

export interface SqsSenderOptions {
  /** AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL: calls go there rather than to the queue URL's host. */
  readonly endpoint: string | undefined;
  readonly maxSockets: number;
}

/**
 * What the relay sends with: SendMessageBatch on SQS's JSON protocol directly (see SqsJsonSender
 * for why). An SDK client is kept only for its region and its standard credential chain (env,
 * ECS task role, …; cached and refreshed before expiry): it makes no calls itself, so its
 * request settings do not matter. Each call's deadline is the forwarder's (RELAY_SQS_TIMEOUT_MS).
 */
export function createSqsSender(options: SqsSenderOptions): SqsJsonSender {
  const client = new SQSClient({});
  return new SqsJsonSender({
    endpoint: options.endpoint,
    maxSockets: options.maxSockets,
    identity: { region: () => client.config.region(), credentials: () => client.config.credentials(), release: () => client.destroy() },
  });
}
