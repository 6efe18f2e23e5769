import type { FauxqsServer } from "fauxqs" with { "resolution-mode": "import" };
import { LOCAL_DLQ_NAME, LOCAL_QUEUE_NAME, LOCAL_REGION, LOCAL_SQS_HOST } from "./localAws";

export interface LocalQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface LocalQueuesOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly queueName?: string;
  readonly dlqName?: string;
}

/** Messages in a queue, as SQS's Approximate* attributes count them. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

// SQS limits: 1 MiB messages (set explicitly, some tools default lower); retention 60 s–14 days.
const MAXIMUM_MESSAGE_SIZE_BYTES = 1_048_576;
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The fauxqs SQS emulator, in this process, with a queue and its DLQ set up like the deployed
 * ones: a RedrivePolicy with maxReceiveCount, so that the emulator itself moves a message that
 * failed too often (as SQS does, on the receive after the last allowed one).
 */
export class LocalQueues {
  private constructor(
    private readonly server: FauxqsServer,
    readonly queue: LocalQueue,
    readonly dlq: LocalQueue,
  ) {}

  static async start(options: LocalQueuesOptions): Promise<LocalQueues> {
    // fauxqs is ESM-only; this project compiles to CommonJS.
    const { startFauxqs } = await import("fauxqs");
    const server = await startFauxqs({ port: options.port, host: LOCAL_SQS_HOST, logger: false, defaultRegion: LOCAL_REGION });
    try {
      const dlq = server.createQueue(options.dlqName ?? LOCAL_DLQ_NAME, {
        region: LOCAL_REGION,
        attributes: { MaximumMessageSize: String(MAXIMUM_MESSAGE_SIZE_BYTES), MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) },
      });
      const queue = server.createQueue(options.queueName ?? LOCAL_QUEUE_NAME, {
        region: LOCAL_REGION,
        attributes: {
          MaximumMessageSize: String(MAXIMUM_MESSAGE_SIZE_BYTES),
          VisibilityTimeout: String(options.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: options.maxReceiveCount }),
        },
      });
      return new LocalQueues(
        server,
        { name: queue.queueName, url: queue.queueUrl, arn: queue.queueArn },
        { name: dlq.queueName, url: dlq.queueUrl, arn: dlq.queueArn },
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Where every SQS call goes (AWS_ENDPOINT_URL_SQS); the queue URLs name a host that may not resolve. */
  get endpoint(): string {
    return `http://${LOCAL_SQS_HOST}:${this.server.port}`;
  }

  get port(): number {
    return this.server.port;
  }

  /** Counts without receiving anything (a receive would bump receive counts and hide messages). */
  depth(queue: LocalQueue): QueueDepth {
    const inspected = this.server.inspectQueue(queue.name);
    if (!inspected) return { visible: 0, inFlight: 0, delayed: 0 };
    return { visible: inspected.messages.ready.length, inFlight: inspected.messages.inflight.length, delayed: inspected.messages.delayed.length };
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
