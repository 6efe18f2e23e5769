import type { FauxqsServer } from "fauxqs" with { "resolution-mode": "import" };

/** A message as the emulator holds it, with the relay's attributes flattened. */
export interface StoredMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string | undefined>>;
  readonly groupId: string | undefined;
  readonly dedupId: string | undefined;
}

export interface Emulator {
  /** What the relay sets as AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  readonly port: number;
  createQueue(name: string, attributes?: Record<string, string>): string;
  /** Every message in the queue (ready, delayed or in flight), without receiving them. */
  messages(name: string): StoredMessage[];
  stop(): Promise<void>;
}

/** The fauxqs emulator, in-process, on a free loopback port. */
export async function startEmulator(): Promise<Emulator> {
  const { startFauxqs } = await import("fauxqs");
  const server: FauxqsServer = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    createQueue(name, attributes = {}) {
      // SQS accepts up to 1 MiB; set it explicitly (FACTS.md: some tools default lower).
      return server.createQueue(name, { attributes: { MaximumMessageSize: "1048576", ...attributes } }).queueUrl;
    },
    messages(name) {
      const queue = server.inspectQueue(name);
      if (!queue) throw new Error(`no queue ${name}`);
      const all = [...queue.messages.ready, ...queue.messages.delayed, ...queue.messages.inflight.map((entry) => entry.message)];
      return all.map((message) => ({
        body: message.body,
        attributes: Object.fromEntries(Object.entries(message.messageAttributes).map(([key, value]) => [key, value.StringValue])),
        groupId: message.messageGroupId,
        dedupId: message.messageDeduplicationId,
      }));
    },
    stop: () => server.stop(),
  };
}
