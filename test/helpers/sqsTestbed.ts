import { type Emulator, startEmulator } from "./emulator";
import { TcpProxy } from "./tcpProxy";

export interface SqsTestbed {
  readonly emulator: Emulator;
  /** In front of the emulator; point AWS_ENDPOINT_URL_SQS here to cut SQS off or make it hang. */
  readonly proxy: TcpProxy;
  /** A fresh queue (FIFO when the attributes say so) for one test. */
  newQueue(attributes?: Record<string, string>): { name: string; url: string };
}

/**
 * Registers mocha hooks in the calling describe: one emulator and proxy for the suite, the
 * proxy back to "pass" after each test.
 */
export function useSqsTestbed(prefix: string): SqsTestbed {
  let emulator: Emulator | undefined;
  let proxy: TcpProxy | undefined;
  let count = 0;
  before(async () => {
    emulator = await startEmulator();
    proxy = await TcpProxy.start(emulator.port);
  });
  afterEach(() => proxy?.setMode("pass"));
  after(async () => {
    await proxy?.close();
    await emulator?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error("the SQS testbed is used outside a test");
    return value;
  };
  return {
    get emulator() {
      return started(emulator);
    },
    get proxy() {
      return started(proxy);
    },
    newQueue(attributes) {
      const name = `${prefix}-${++count}${attributes?.FifoQueue === "true" ? ".fifo" : ""}`;
      return { name, url: started(emulator).createQueue(name, attributes) };
    },
  };
}
