import { strict as assert } from "node:assert";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Emulator, startEmulator } from "../helpers/emulator";
import { recordOf } from "../helpers/frameRecords";
import { waitFor } from "../helpers/waitFor";
import { batchRequestBody, type FrameRecord } from "../../app/frameRecord";
import { SqsHttpError, SqsJsonSender, signedHeaders } from "../../app/SqsJsonSender";

/** The hash the SDK's signer expects (an HMAC when given a secret), on node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac("sha256", toBytes(secret)) : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** A frame as the relay holds it (binary frames are sent base64). */
function record(frame: string | Buffer, seq: number, fifo?: { groupId: string; dedupId: string }): FrameRecord {
  return recordOf(frame, {
    receivedAtMs: 1_700_000_000_000 + seq,
    seq,
    fifo: fifo !== undefined,
    messageGroupId: fifo && { kind: "literal", value: fifo.groupId },
    dedupId: fifo && { kind: "literal", value: fifo.dedupId },
  });
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

describe("SqsJsonSender", () => {
  const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
  const body = JSON.stringify({ QueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/q", Entries: [{ Id: "0", MessageBody: "héllo ✓" }] });

  for (const sessionToken of [undefined, "FwoGZXIvYXdzEXAMPLETOKEN"]) {
    it(`signs exactly as the AWS SDK's SigV4 signer does (${sessionToken ? "with" : "without"} a session token)`, async () => {
      // Prepare
      const signingDate = new Date("2026-12-04T20:15:42.000Z");
      const reference = new SignatureV4({ credentials: { ...credentials, sessionToken }, region: "eu-west-1", service: "sqs", sha256: NodeSha256 });
      const kDate = hmac(`AWS4${credentials.secretAccessKey}`, "20261204");
      const key = hmac(hmac(hmac(kDate, "eu-west-1"), "sqs"), "aws4_request");

      // Act
      const ours = signedHeaders(
        { scope: "20261204/eu-west-1/sqs/aws4_request", key, accessKeyId: credentials.accessKeyId, amzDate: "20261204T201542Z" },
        { host: "sqs.eu-west-1.amazonaws.com", body, sessionToken },
      );
      const theirs = await reference.sign(
        {
          method: "POST",
          protocol: "https:",
          hostname: "sqs.eu-west-1.amazonaws.com",
          path: "/",
          query: {},
          headers: { "content-type": ours["content-type"]!, host: ours.host!, "x-amz-target": ours["x-amz-target"]! },
          body,
        },
        { signingDate },
      );

      // Assess
      assert.equal(ours.authorization, theirs.headers.authorization);
      assert.equal(ours["x-amz-security-token"], theirs.headers["x-amz-security-token"]);
    });
  }

  describe("on the wire", () => {
    let server: HttpServer;
    let endpoint: string;
    const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    /** What the fake SQS reports as each body's MD5 (the real one unless a test says otherwise). */
    let md5Of = (body: string): string => createHash("md5").update(body).digest("hex");
    before(async () => {
      server = createHttpServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          seen.push({ headers: request.headers, body });
          const entries = (JSON.parse(body) as { Entries: Array<{ Id: string; MessageBody: string }> }).Entries;
          response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
          response.end(JSON.stringify({ Successful: entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: md5Of(entry.MessageBody) })), Failed: [] }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("signs every request as the AWS SDK's signer would sign what arrived, across calls and seconds", async () => {
      // Prepare
      const sessionToken = "FwoGZXIvYXdzEXAMPLETOKEN";
      const sender = new SqsJsonSender({ endpoint, maxSockets: 1, identity: { region: async () => "eu-west-1", credentials: async () => ({ ...credentials, sessionToken }) } });
      seen.length = 0;
      try {
        // Act: calls in two different seconds, so the cached date and key are used and renewed
        await sender.sendBatch(`${endpoint}/123456789012/q`, [record("one", 1)], 5_000);
        await sender.sendBatch(`${endpoint}/123456789012/q`, [record("two ✓", 2), record("three", 3)], 5_000);
        await new Promise((resolve) => setTimeout(resolve, 1_050));
        await sender.sendBatch(`${endpoint}/123456789012/q`, [record("four", 4)], 5_000);
      } finally {
        sender.destroy();
      }

      // Assess
      assert.equal(seen.length, 3);
      const reference = new SignatureV4({ credentials: { ...credentials, sessionToken }, region: "eu-west-1", service: "sqs", sha256: NodeSha256 });
      for (const { headers, body } of seen) {
        const amzDate = String(headers["x-amz-date"]);
        const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
        const theirs = await reference.sign(
          {
            method: "POST",
            protocol: "http:",
            hostname: "127.0.0.1",
            path: "/",
            query: {},
            headers: { "content-type": String(headers["content-type"]), host: String(headers.host), "x-amz-target": String(headers["x-amz-target"]) },
            body,
          },
          { signingDate },
        );
        assert.equal(headers.authorization, theirs.headers.authorization, `request signed at ${amzDate}`);
        assert.equal(headers["x-amz-target"], "AmazonSQS.SendMessageBatch");
        assert.equal(headers["x-amz-security-token"], sessionToken);
      }
      assert.notEqual(seen[0]!.headers["x-amz-date"], seen[2]!.headers["x-amz-date"], "the date moved on");
    });

    it("fails the call when SQS reports another MD5 for a body, as the SDK does", async () => {
      // Prepare
      const sender = new SqsJsonSender({ endpoint, maxSockets: 1, identity: { region: async () => "eu-west-1", credentials: async () => credentials } });
      md5Of = (body) => createHash("md5").update(`${body}!`).digest("hex");
      try {
        // Act / Assess
        await assert.rejects(sender.sendBatch(`${endpoint}/123456789012/q`, [record("one", 1)], 5_000), { name: "InvalidChecksum" });
      } finally {
        md5Of = (body) => createHash("md5").update(body).digest("hex");
        sender.destroy();
      }
    });
  });

  it("writes the request body the AWS SDK would send for the same entries", async () => {
    // Prepare: every kind of record the relay sends — JSON with quotes and escapes, non-ASCII,
    // a base64 binary frame, FIFO group and dedup ids
    const records = [record('{"a":"q\\"uote","t":"\\u0007\\n"}', 1), record("héllo ✓ 🚀", 2), record(Buffer.from([1, 2, 3]), 3), record("fifo", 4, { groupId: "BTC-USD", dedupId: "c-1:4" })];
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/q";
    let sdkBody: string | undefined;
    const sdk = new SQSClient({
      region: "eu-west-1",
      credentials,
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: { body?: unknown }) => {
          sdkBody = typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body as Uint8Array);
          throw new Error("captured");
        },
      },
    });

    // Act
    const ours = batchRequestBody(queueUrl, records);
    await assert.rejects(
      sdk.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((r, i) => ({
            Id: String(i),
            MessageBody: r.body,
            MessageAttributes: {
              "relay.receivedAt": { DataType: "Number", StringValue: String(r.receivedAtMs) },
              "relay.seq": { DataType: "Number", StringValue: String(r.seq) },
              "relay.connectionId": { DataType: "String", StringValue: r.connectionId },
              ...(r.encodedFrom && { "relay.encoding": { DataType: "String", StringValue: "base64" }, "relay.frameType": { DataType: "String", StringValue: r.encodedFrom } }),
            },
            MessageGroupId: r.groupId,
            MessageDeduplicationId: r.dedupId,
          })),
        }),
      ),
      /captured/,
    );
    sdk.destroy();

    // Assess
    assert.ok(sdkBody, "the SDK serialized a request");
    assert.deepEqual(JSON.parse(ours), JSON.parse(sdkBody));
  });

  describe("against the emulator", () => {
    let emulator: Emulator;
    let sender: SqsJsonSender;
    before(async () => {
      emulator = await startEmulator();
      sender = new SqsJsonSender({
        endpoint: emulator.endpoint,
        maxSockets: 2,
        identity: { region: async () => "us-east-1", credentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }) },
      });
    });
    after(async () => {
      sender.destroy();
      await emulator.stop();
    });

    it("stores every entry with its attributes and reports each as successful", async () => {
      const queueUrl = emulator.createQueue("sender-ok");
      const output = await sender.sendBatch(queueUrl, [record("one", 1), record('zwei ✓ "quoted"\n', 2), record(Buffer.from([0, 255]), 3)], 5_000);
      assert.deepEqual(output.Successful?.map((entry) => entry.Id).sort(), ["0", "1", "2"]);
      const stored = emulator.messages("sender-ok");
      assert.deepEqual(stored.map((message) => message.body).sort(), ["AP8=", "one", 'zwei ✓ "quoted"\n']);
      assert.deepEqual(stored.find((message) => message.body === "one")?.attributes, { "relay.receivedAt": "1700000000001", "relay.seq": "1", "relay.connectionId": "c-1" });
      assert.equal(stored.find((message) => message.body === "AP8=")?.attributes["relay.frameType"], "binary");
    });

    it("throws an error named after SQS's error type when the call is refused", async () => {
      const queueUrl = emulator.createQueue("sender-real").replace("sender-real", "no-such-queue");
      await assert.rejects(
        sender.sendBatch(queueUrl, [record("x", 1)], 5_000),
        (error: unknown) => error instanceof SqsHttpError && error.statusCode === 400 && /QueueDoesNotExist|NonExistentQueue/.test(error.name),
      );
    });
  });

  it("gives up with a TimeoutError at its deadline when SQS accepts the connection and never answers", async () => {
    // Prepare: a server that swallows requests
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const sender = new SqsJsonSender({ endpoint, maxSockets: 1, identity: { region: async () => "us-east-1", credentials: async () => ({ accessKeyId: "a", secretAccessKey: "b" }) } });
    const startedAt = Date.now();
    try {
      // Act / Assess
      await assert.rejects(sender.sendBatch(`${endpoint}/000000000000/q`, [record("x", 1)], 200), {
        name: "TimeoutError",
        message: "no answer within 200 ms",
      });
      const tookMs = Date.now() - startedAt;
      assert.ok(tookMs >= 190 && tookMs < 2_000, `the deadline ended the call after ${tookMs} ms`);
      await waitFor("the silent server to see the socket closed", () => [...sockets].every((socket) => socket.destroyed || socket.readableEnded), 2_000);
    } finally {
      sender.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
