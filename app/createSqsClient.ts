import { SQSClient } from "@aws-sdk/client-sqs";
import { SqsJsonSender } from "./SqsJsonSender";

export interface SqsClientOptions {
  readonly endpoint: string | undefined;
  readonly timeoutMs: number;
  readonly maxSockets: number;
}

/**
 * An SQS client that cannot hang: connect and request timeouts on every call (the SDK has none
 * by default). With an endpoint configured, calls go there and not to the host in the queue URL
 * (emulators hand out URLs like http://sqs.us-east-1.localhost:4566/… that may not resolve).
 * Retries are the forwarder's, so that every failure is counted and backs off in one place.
 */
export function createSqsClient(options: SqsClientOptions): SQSClient {
  const agent = { keepAlive: true, maxSockets: options.maxSockets };
  return new SQSClient({
    ...(options.endpoint ? { endpoint: options.endpoint, useQueueUrlAsEndpoint: false } : {}),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: Math.min(options.timeoutMs, 3_000),
      requestTimeout: options.timeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
}

/**
 * What the relay sends with: SendMessageBatch on SQS's JSON protocol directly (see
 * SqsJsonSender for why), with the region and credentials of an SDK client built as above.
 */
export function createSqsSender(options: SqsClientOptions): SqsJsonSender {
  const client = createSqsClient(options);
  return new SqsJsonSender({
    endpoint: options.endpoint,
    maxSockets: options.maxSockets,
    identity: { region: () => client.config.region(), credentials: () => client.config.credentials(), release: () => client.destroy() },
  });
}
