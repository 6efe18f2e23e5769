import { type ProxyMode, TcpProxy } from "../test/helpers/tcpProxy";

export type { ProxyMode };

const TARGET_HEADER = "x-amz-target: amazonsqs.";

/**
 * The tests' TCP proxy in front of the emulator, counting the SQS requests passing through it
 * by action (the AWS JSON protocol names the action in the `X-Amz-Target` header). Counting on
 * the wire, not from a relay's own figures, is what makes "requests per event" comparable.
 */
export class CountingProxy {
  readonly requests = new Map<string, number>();
  /** Headers may straddle two chunks: the tail of each connection's previous chunk. */
  private readonly tails = new WeakMap<object, string>();
  private proxy: TcpProxy | undefined;

  static async start(targetPort: number): Promise<CountingProxy> {
    const counting = new CountingProxy();
    counting.proxy = await TcpProxy.start(targetPort, (chunk, connection) => counting.count(chunk, connection));
    return counting;
  }

  private get started(): TcpProxy {
    if (!this.proxy) throw new Error("CountingProxy.start() has not finished");
    return this.proxy;
  }

  get endpoint(): string {
    return this.started.endpoint;
  }

  get totalRequests(): number {
    let total = 0;
    for (const count of this.requests.values()) total += count;
    return total;
  }

  resetCounts(): void {
    this.requests.clear();
  }

  /** pass: forward to the emulator; refuse: reset every connection, like SQS unreachable. */
  setMode(mode: Extract<ProxyMode, "pass" | "refuse">): void {
    this.started.setMode(mode);
  }

  close(): Promise<void> {
    return this.started.close();
  }

  private count(chunk: Buffer, connection: object): void {
    const text = (this.tails.get(connection) ?? "") + chunk.toString("latin1").toLowerCase();
    let counted = 0;
    let at = text.indexOf(TARGET_HEADER);
    while (at !== -1) {
      const end = text.indexOf("\r", at);
      if (end === -1) break;
      const action = text.slice(at + TARGET_HEADER.length, end);
      this.requests.set(action, (this.requests.get(action) ?? 0) + 1);
      counted = end;
      at = text.indexOf(TARGET_HEADER, end);
    }
    this.tails.set(connection, text.slice(Math.max(counted, text.length - (TARGET_HEADER.length + 40))));
  }
}
