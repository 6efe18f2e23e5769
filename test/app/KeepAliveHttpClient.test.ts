import { strict as assert } from "node:assert";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { generate as generateCertificate } from "selfsigned";
import { sleep, waitFor } from "../helpers/waitFor";
import { type HttpAnswer, type HttpOrigin, HttpProtocolError, HttpTimeoutError, KeepAliveHttpClient, type KeepAliveHttpClientOptions } from "../../app/KeepAliveHttpClient";

/** One request as the server read it off the wire. */
interface ReceivedRequest {
  /** 1-based number of the TCP connection it came on, in accept order. */
  readonly connection: number;
  readonly path: string;
  /** Every byte of the request: request line, headers, blank line and body. */
  readonly raw: Buffer;
}

/** Writes the answer to one request; requests on a connection are answered one after another. */
type Responder = (request: ReceivedRequest, socket: Socket) => void | Promise<void>;

interface RawServer {
  readonly origin: HttpOrigin;
  readonly requests: ReceivedRequest[];
  /** The server's side of every connection still open. */
  readonly sockets: Set<Socket>;
  /** Connections accepted, closed, open now, and the most open at once. */
  readonly connections: { accepted: number; closed: number; open: number; maxOpen: number };
}

/** A server writing raw bytes, so each test controls the answer's framing to the byte. */
async function listenRaw(respond: Responder): Promise<{ server: RawServer; close: () => Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const connections = { accepted: 0, closed: 0, open: 0, maxOpen: 0 };
  const server = createServer({ noDelay: true }, (socket) => {
    const connection = ++connections.accepted;
    connections.open++;
    connections.maxOpen = Math.max(connections.maxOpen, connections.open);
    sockets.add(socket);
    socket.on("error", () => undefined); // resets from a client that gave up are part of the tests
    socket.on("close", () => {
      sockets.delete(socket);
      connections.open--;
      connections.closed++;
    });
    let buffered = Buffer.alloc(0);
    let answered = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf("\r\n\r\n");
        if (headEnd < 0) return;
        const head = buffered.toString("latin1", 0, headEnd);
        const end = headEnd + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end) return;
        const request: ReceivedRequest = { connection, path: head.split(" ")[1] ?? "", raw: buffered.subarray(0, end) };
        buffered = buffered.subarray(end);
        requests.push(request);
        answered = answered.then(() => respond(request, socket)).catch(() => void socket.destroy());
      }
    });
  });
  const port = await listenOnLoopback(server);
  return {
    server: { origin: { protocol: "http:", hostname: "127.0.0.1", port: String(port) }, requests, sockets, connections },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** A complete answer with a Content-Length. */
function answerBytes(status: string, body: string, headers: readonly string[] = []): Buffer {
  const bodyBytes = Buffer.from(body);
  const head = [`HTTP/1.1 ${status}`, ...headers, `Content-Length: ${bodyBytes.length}`].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), bodyBytes]);
}

/** Writes `bytes` a few at a time with a pause between writes, so they reach the client as separate reads. */
async function writeInPieces(socket: Socket, bytes: Buffer, pieceBytes: number, pauseMs = 1): Promise<void> {
  for (let at = 0; at < bytes.length; at += pieceBytes) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(at, at + pieceBytes));
    await sleep(pauseMs);
  }
}

/** A promise the test settles by hand (to hold an answer back). */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const JSON_TYPE = "Content-Type: application/x-amz-json-1.0";
const BODY_WITH_MULTIBYTE = JSON.stringify({ Successful: [{ Id: "0", MessageId: "5fea7756-0ea4-451a-a703-a558b933e274" }], note: "héllo ✓ 𝄞 日本語 €" });

describe("KeepAliveHttpClient", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startServer(respond: Responder): Promise<RawServer> {
    const { server, close } = await listenRaw(respond);
    cleanups.push(close);
    return server;
  }

  function newClient(options: Partial<KeepAliveHttpClientOptions> = {}): KeepAliveHttpClient {
    const client = new KeepAliveHttpClient({ maxSockets: 1, ...options });
    cleanups.push(() => client.destroy());
    return client;
  }

  /** POSTs `body` as SqsJsonSender does (Host and Content-Length set), giving up after 5 s so a bug fails the test instead of hanging it. */
  function post(client: KeepAliveHttpClient, origin: HttpOrigin, path: string, body = "", timeoutMs = 5_000): Promise<HttpAnswer> {
    const headers = { Host: `${origin.hostname}:${origin.port}`, "Content-Length": String(Buffer.byteLength(body)) };
    return client.post(origin, path, headers, body, timeoutMs);
  }

  /** Answers each request with `200 OK` and the request's path as the body. */
  const echoPath: Responder = (request, socket) => void socket.write(answerBytes("200 OK", `answer to ${request.path}`));

  describe("reading answers", () => {
    it("returns a Content-Length body byte-exact when multi-byte UTF-8 characters are split across TCP writes", async () => {
      // Prepare: three bytes per write splits every 4-byte and most 3-byte characters
      const server = await startServer((_request, socket) => writeInPieces(socket, answerBytes("200 OK", BODY_WITH_MULTIBYTE, [JSON_TYPE]), 3));
      const client = newClient();

      // Act
      const answer = await post(client, server.origin, "/");

      // Assess
      assert.deepEqual(answer, { statusCode: 200, body: BODY_WITH_MULTIBYTE });
    });

    it("decodes a chunked body with chunk extensions and trailers split across writes, and ends it exactly", async () => {
      // Prepare: chunk boundaries fall inside multi-byte characters; sizes in both hex cases
      const bodyBytes = Buffer.from(BODY_WITH_MULTIBYTE);
      const cuts = [0, 5, 33, 90, bodyBytes.length - 3, bodyBytes.length];
      const chunks = cuts.slice(1).map((end, i) => {
        const size = end - cuts[i]!;
        const sizeText = i % 2 === 0 ? size.toString(16).toUpperCase() : size.toString(16);
        const extension = i === 1 ? ';name="quoted value"' : i === 2 ? ";flag" : "";
        return Buffer.concat([Buffer.from(`${sizeText}${extension}\r\n`), bodyBytes.subarray(cuts[i], end), Buffer.from("\r\n")]);
      });
      const chunkedAnswer = (trailers: string): Buffer =>
        Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${JSON_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n`), ...chunks, Buffer.from(`0\r\n${trailers}\r\n`)]);
      const server = await startServer((request, socket) =>
        writeInPieces(socket, chunkedAnswer(request.path === "/first" ? "X-Amz-Checksum: abc\r\nX-Other: 1\r\n" : ""), 7),
      );
      const client = newClient();

      // Act
      const first = await post(client, server.origin, "/first");
      const second = await post(client, server.origin, "/second");

      // Assess: both bodies whole, and the second answer was read on the same connection
      assert.deepEqual(first, { statusCode: 200, body: BODY_WITH_MULTIBYTE });
      assert.deepEqual(second, { statusCode: 200, body: BODY_WITH_MULTIBYTE });
      assert.equal(server.connections.accepted, 1);
    });

    it("skips interim 1xx answers and returns the real one", async () => {
      // Prepare: a 100 Continue written on its own, then 100 and 102 in the same write as the answer
      const server = await startServer(async (request, socket) => {
        if (request.path === "/separate") {
          socket.write("HTTP/1.1 100 Continue\r\n\r\n");
          await sleep(10);
          socket.write(answerBytes("200 OK", "after a pause"));
        } else {
          socket.write(Buffer.concat([Buffer.from("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Progress: 1\r\n\r\n"), answerBytes("201 Created", "at once")]));
        }
      });
      const client = newClient();

      // Act
      const separate = await post(client, server.origin, "/separate");
      const together = await post(client, server.origin, "/together");

      // Assess
      assert.deepEqual(separate, { statusCode: 200, body: "after a pause" });
      assert.deepEqual(together, { statusCode: 201, body: "at once" });
      assert.equal(server.connections.accepted, 1);
    });

    it("resolves with the status and body of a non-2xx answer", async () => {
      // Prepare
      const error = JSON.stringify({ __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." });
      const server = await startServer((request, socket) => {
        if (request.path === "/missing") socket.write(answerBytes("400 Bad Request", error, [JSON_TYPE]));
        else socket.write("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n0\r\n\r\n");
      });
      const client = newClient();

      // Act
      const missing = await post(client, server.origin, "/missing");
      const busy = await post(client, server.origin, "/busy");

      // Assess
      assert.deepEqual(missing, { statusCode: 400, body: error });
      assert.deepEqual(busy, { statusCode: 503, body: "busy" });
    });

    it("reads an answer with neither Content-Length nor chunked until the server closes, then connects anew", async () => {
      // Prepare
      const server = await startServer(async (request, socket) => {
        if (request.path === "/until-close") {
          await writeInPieces(socket, Buffer.from(`HTTP/1.1 200 OK\r\n${JSON_TYPE}\r\n\r\n${BODY_WITH_MULTIBYTE}`), 5);
          socket.end();
        } else {
          echoPath(request, socket);
        }
      });
      const client = newClient();

      // Act
      const untilClose = await post(client, server.origin, "/until-close");
      const next = await post(client, server.origin, "/next");

      // Assess
      assert.deepEqual(untilClose, { statusCode: 200, body: BODY_WITH_MULTIBYTE });
      assert.deepEqual(next, { statusCode: 200, body: "answer to /next" });
      assert.deepEqual(
        server.requests.map((request) => request.connection),
        [1, 2],
      );
    });
  });

  it("sends the request line, the given headers and the body, exactly", async () => {
    // Prepare
    const server = await startServer(echoPath);
    const client = newClient();
    const body = JSON.stringify({ QueueUrl: "http://127.0.0.1/000000000000/q", Entries: [{ Id: "0", MessageBody: "zwei ✓ 𝄞" }] });
    const headers = {
      host: `127.0.0.1:${server.origin.port}`,
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": "AmazonSQS.SendMessageBatch",
      "content-length": String(Buffer.byteLength(body)),
    };

    // Act
    await client.post(server.origin, "/000000000000/q?Action=x", headers, body, 5_000);

    // Assess
    const expected = Buffer.concat([
      Buffer.from(
        "POST /000000000000/q?Action=x HTTP/1.1\r\n" +
          `host: 127.0.0.1:${server.origin.port}\r\n` +
          "Content-Type: application/x-amz-json-1.0\r\n" +
          "X-Amz-Target: AmazonSQS.SendMessageBatch\r\n" +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          "\r\n",
      ),
      Buffer.from(body, "utf8"),
    ]);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.raw.toString("utf8"), expected.toString("utf8"));
    assert.ok(server.requests[0]!.raw.equals(expected), "the request bytes differ");
  });

  describe("keep-alive", () => {
    it("sends sequential requests over one TCP connection", async () => {
      // Prepare
      const server = await startServer(echoPath);
      const client = newClient({ maxSockets: 4 });

      // Act
      const answers = [await post(client, server.origin, "/1"), await post(client, server.origin, "/2"), await post(client, server.origin, "/3")];

      // Assess
      assert.deepEqual(
        answers.map((answer) => answer.body),
        ["answer to /1", "answer to /2", "answer to /3"],
      );
      assert.equal(server.connections.accepted, 1);
      assert.equal(server.connections.open, 1, "the connection was not kept open");
    });

    it("closes the connection after an answer with Connection: close, and opens a new one for the next request", async () => {
      // Prepare: the server says close but leaves it to the client
      const server = await startServer((request, socket) =>
        void socket.write(request.path === "/last" ? answerBytes("200 OK", "bye", ["Connection: close"]) : answerBytes("200 OK", "again")),
      );
      const client = newClient();

      // Act
      const last = await post(client, server.origin, "/last");
      await waitFor("the client to close the connection", () => server.connections.closed === 1, 2_000);
      const again = await post(client, server.origin, "/again");

      // Assess
      assert.deepEqual([last.body, again.body], ["bye", "again"]);
      assert.deepEqual(
        server.requests.map((request) => request.connection),
        [1, 2],
      );
    });

    it("does not reuse a connection on which the server sent bytes beyond the answer", async () => {
      // Prepare
      const server = await startServer((request, socket) => {
        const answer = answerBytes("200 OK", `answer to ${request.path}`);
        socket.write(request.path === "/extra" ? Buffer.concat([answer, Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")]) : answer);
      });
      const client = newClient();

      // Act
      const extra = await post(client, server.origin, "/extra");
      const next = await post(client, server.origin, "/next");

      // Assess: the next request got its own answer, not the stale one
      assert.deepEqual([extra.body, next.body], ["answer to /extra", "answer to /next"]);
      assert.deepEqual(
        server.requests.map((request) => request.connection),
        [1, 2],
      );
    });

    it("opens a new connection when the server has closed the idle one", async () => {
      // Prepare
      const server = await startServer(echoPath);
      const client = newClient();
      await post(client, server.origin, "/before");

      // Act: the server closes the idle connection; wait until the close has gone both ways
      for (const socket of server.sockets) socket.end();
      await waitFor("the idle connection to close", () => server.connections.closed === 1, 2_000);
      await sleep(20);
      const after = await post(client, server.origin, "/after");

      // Assess
      assert.equal(after.body, "answer to /after");
      assert.deepEqual(
        server.requests.map((request) => request.connection),
        [1, 2],
      );
    });

    it("closes a connection left idle for idleTimeoutMs", async () => {
      // Prepare
      const server = await startServer(echoPath);
      const client = newClient({ idleTimeoutMs: 150 });
      await post(client, server.origin, "/");
      const idleSince = Date.now();

      // Act
      await waitFor("the client to close the idle connection", () => server.connections.closed === 1, 2_000, 5);

      // Assess
      const idleMs = Date.now() - idleSince;
      assert.ok(idleMs >= 120 && idleMs < 1_000, `closed after ${idleMs} ms idle, expected about 150 ms`);
      assert.equal((await post(client, server.origin, "/later")).body, "answer to /later");
      assert.equal(server.connections.accepted, 2);
    });

    it("keeps a busy connection open past idleTimeoutMs while the answer is slow", async () => {
      // Prepare
      const server = await startServer(async (request, socket) => {
        if (request.path === "/slow") await sleep(250);
        echoPath(request, socket);
      });
      const client = newClient({ idleTimeoutMs: 100 });
      await post(client, server.origin, "/first"); // the timer is armed only once a connection has been idle

      // Act
      const slow = await post(client, server.origin, "/slow");

      // Assess
      assert.equal(slow.body, "answer to /slow");
      assert.equal(server.connections.accepted, 1);
    });

    it("never has more than maxSockets connections open to an origin, and answers every request", async () => {
      // Prepare
      const server = await startServer(async (request, socket) => {
        await sleep(30);
        echoPath(request, socket);
      });
      const client = newClient({ maxSockets: 2 });

      // Act
      const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => post(client, server.origin, `/${n}`)));

      // Assess
      assert.deepEqual(
        answers.map((answer) => answer.body),
        [1, 2, 3, 4, 5].map((n) => `answer to /${n}`),
      );
      assert.equal(server.connections.maxOpen, 2);
      assert.equal(server.connections.accepted, 2);
    });

    it("gives a request waiting for a socket a new connection when the busy one closes", async () => {
      // Prepare: with one socket, the second and third requests can start only once the one before has closed
      const server = await startServer((request, socket) => {
        if (request.path === "/close") socket.write(answerBytes("200 OK", "closing", ["Connection: close"]));
        else if (request.path === "/reset") socket.resetAndDestroy();
        else echoPath(request, socket);
      });
      const client = newClient({ maxSockets: 1 });

      // Act
      const [closing, reset, ok] = await Promise.allSettled([post(client, server.origin, "/close"), post(client, server.origin, "/reset"), post(client, server.origin, "/ok")]);

      // Assess
      assert.deepEqual(closing, { status: "fulfilled", value: { statusCode: 200, body: "closing" } });
      assert.equal(reset?.status === "rejected" && (reset.reason as NodeJS.ErrnoException).code, "ECONNRESET");
      assert.deepEqual(ok, { status: "fulfilled", value: { statusCode: 200, body: "answer to /ok" } });
      assert.deepEqual(
        server.requests.map((request) => `${request.connection} ${request.path}`),
        ["1 /close", "2 /reset", "3 /ok"],
      );
    });
  });

  describe("deadline", () => {
    it("rejects with a TimeoutError when the server hangs past the deadline, and the client keeps working", async () => {
      // Prepare
      const server = await startServer((request, socket) => {
        if (request.path !== "/hang") echoPath(request, socket);
      });
      const client = newClient();
      const startedAt = Date.now();

      // Act
      const hanging = post(client, server.origin, "/hang", "", 150);

      // Assess
      await assert.rejects(hanging, (error: unknown) => error instanceof HttpTimeoutError && error.name === "TimeoutError" && error.message === "no answer within 150 ms");
      assert.ok(Date.now() - startedAt >= 140, "gave up before the deadline");
      assert.equal(server.requests.length, 1, "the request had reached the server");
      assert.equal((await post(client, server.origin, "/after")).body, "answer to /after");
      assert.equal(server.connections.accepted, 2, "the timed-out request's socket was not reused");
    });

    it("does not fire after the answer: a reused socket outlives an earlier request's deadline", async () => {
      // Prepare
      const server = await startServer(echoPath);
      const client = newClient();

      // Act
      assert.equal((await post(client, server.origin, "/first", "", 100)).body, "answer to /first");
      await sleep(200);

      // Assess
      assert.equal((await post(client, server.origin, "/second", "", 5_000)).body, "answer to /second");
      assert.equal(server.connections.accepted, 1);
    });

    it("rejects a request whose deadline passes while it waits for a socket, and never sends it", async () => {
      // Prepare: the only socket is busy until the test lets the answer go
      const release = gate();
      const server = await startServer(async (request, socket) => {
        if (request.path === "/busy") await release.promise;
        echoPath(request, socket);
      });
      const client = newClient({ maxSockets: 1 });
      const busy = post(client, server.origin, "/busy");
      await waitFor("the first request to reach the server", () => server.requests.length === 1, 2_000);

      // Act
      const waiting = post(client, server.origin, "/waiting", "", 100);
      await assert.rejects(waiting, { name: "TimeoutError" });
      release.open();

      // Assess
      assert.equal((await busy).body, "answer to /busy");
      assert.equal((await post(client, server.origin, "/next")).body, "answer to /next");
      assert.deepEqual(
        server.requests.map((request) => request.path),
        ["/busy", "/next"],
      );
      assert.equal(server.connections.accepted, 1);
    });
  });

  describe("failures", () => {
    it("rejects with ECONNREFUSED when nothing listens, every time, and then reaches a healthy server", async () => {
      // Prepare: a port that was free a moment ago
      const vacated = createServer();
      const port = await listenOnLoopback(vacated);
      await new Promise<void>((resolve) => vacated.close(() => resolve()));
      const nowhere: HttpOrigin = { protocol: "http:", hostname: "127.0.0.1", port: String(port) };
      const healthy = await startServer(echoPath);
      const client = newClient({ maxSockets: 1 });

      // Act / Assess: more failures than sockets, so a leaked socket slot would hang the last one
      for (let attempt = 0; attempt < 3; attempt++) {
        await assert.rejects(post(client, nowhere, "/"), { code: "ECONNREFUSED" });
      }
      assert.equal((await post(client, healthy.origin, "/ok")).body, "answer to /ok");
    });

    const broken: Array<{ what: string; answer: (socket: Socket) => void; rejection: (error: unknown) => boolean }> = [
      {
        what: "the server closes in the middle of a Content-Length body",
        answer: (socket) => void socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Successful\":"),
        rejection: (error) => error instanceof Error && /closed the connection before its answer was complete/.test(error.message),
      },
      {
        what: "the server closes in the middle of a chunked body",
        answer: (socket) => void socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nhalf"),
        rejection: (error) => error instanceof Error && /closed the connection before its answer was complete/.test(error.message),
      },
      {
        what: "the server closes in the middle of the head",
        answer: (socket) => void socket.end("HTTP/1.1 200 OK\r\nContent-Len"),
        rejection: (error) => error instanceof Error && /closed the connection before its answer was complete/.test(error.message),
      },
      {
        what: "the server resets the connection before answering",
        answer: (socket) => void socket.resetAndDestroy(),
        rejection: (error) => error instanceof Error && (error as NodeJS.ErrnoException).code === "ECONNRESET",
      },
      {
        what: "the status line is garbage",
        answer: (socket) => void socket.write("SSH-2.0-OpenSSH_9.6\r\nHello: there\r\n\r\n"),
        rejection: (error) => error instanceof HttpProtocolError && /not an HTTP\/1\.x status line/.test(error.message),
      },
      {
        what: "a chunk size is not hexadecimal",
        answer: (socket) => void socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        rejection: (error) => error instanceof HttpProtocolError,
      },
    ];
    for (const { what, answer, rejection } of broken) {
      it(`rejects when ${what}, and the next request works`, async () => {
        // Prepare
        const server = await startServer((request, socket) => (request.path === "/broken" ? answer(socket) : echoPath(request, socket)));
        const client = newClient({ maxSockets: 1 });

        // Act / Assess
        await assert.rejects(post(client, server.origin, "/broken"), rejection);
        assert.equal((await post(client, server.origin, "/ok")).body, "answer to /ok");
        assert.equal(server.connections.accepted, 2);
      });
    }

    describe("an answer larger than maxResponseBytes", () => {
      const maxResponseBytes = 1024;
      const big = "x".repeat(4 * maxResponseBytes);
      const chunked = (body: string): string =>
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.match(/.{1,256}/g)!.map((chunk) => `100\r\n${chunk}\r\n`).join("")}0\r\n\r\n`;
      const oversized: Array<{ framing: string; answer: (socket: Socket) => void }> = [
        { framing: "with a Content-Length one byte over", answer: (socket) => void socket.write(answerBytes("200 OK", "y".repeat(maxResponseBytes + 1))) },
        { framing: "with a Content-Length announced and not yet sent", answer: (socket) => void socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n{") },
        { framing: "chunked", answer: (socket) => void socket.write(chunked(big)) },
        { framing: "delimited by close", answer: (socket) => void socket.end(`HTTP/1.1 200 OK\r\n\r\n${big}`) },
      ];
      for (const { framing, answer } of oversized) {
        it(`rejects one ${framing}, and the next request works`, async () => {
          // Prepare
          const server = await startServer((request, socket) => (request.path === "/big" ? answer(socket) : echoPath(request, socket)));
          const client = newClient({ maxSockets: 1, maxResponseBytes });

          // Act / Assess
          await assert.rejects(post(client, server.origin, "/big", "", 2_000), (error: unknown) => error instanceof HttpProtocolError && /larger than 1024 bytes/.test(error.message));
          assert.equal((await post(client, server.origin, "/ok")).body, "answer to /ok");
        });
      }

      it("resolves one of exactly maxResponseBytes", async () => {
        // Prepare
        const body = "z".repeat(maxResponseBytes);
        const server = await startServer((_request, socket) => void socket.write(answerBytes("200 OK", body)));
        const client = newClient({ maxResponseBytes });

        // Act / Assess
        assert.deepEqual(await post(client, server.origin, "/"), { statusCode: 200, body });
      });
    });
  });

  describe("destroy()", () => {
    it("fails requests in flight and waiting, closes every connection, and refuses later requests", async () => {
      // Prepare: two requests hang on the two sockets, a third waits; another origin has an idle connection
      const server = await startServer((request, socket) => {
        if (request.path !== "/hang") echoPath(request, socket);
      });
      const other = await startServer(echoPath);
      const client = newClient({ maxSockets: 2 });
      await post(client, other.origin, "/idle");
      const outcomes = Promise.allSettled([post(client, server.origin, "/hang"), post(client, server.origin, "/hang"), post(client, server.origin, "/waiting")]);
      await waitFor("both hanging requests to reach the server", () => server.requests.length === 2, 2_000);
      const startedAt = Date.now();

      // Act
      client.destroy();

      // Assess
      const destroyed = (error: unknown): boolean => error instanceof Error && /destroyed/.test(error.message);
      for (const outcome of await outcomes) {
        assert.equal(outcome.status, "rejected");
        assert.ok(outcome.status === "rejected" && destroyed(outcome.reason), `rejected with ${String(outcome.status === "rejected" && outcome.reason)}`);
      }
      assert.ok(Date.now() - startedAt < 1_000, "destroy() did not end the requests promptly");
      await waitFor("every connection to close", () => server.connections.open === 0 && other.connections.open === 0, 2_000);
      await assert.rejects(post(client, other.origin, "/later"), destroyed);
      assert.deepEqual(
        server.requests.map((request) => request.path),
        ["/hang", "/hang"],
      );
      assert.equal(other.requests.length, 1);
    });
  });

  describe("over https", () => {
    let certificate: { key: string; cert: string };
    let foreignCertificate: { key: string; cert: string };

    /** A throwaway self-signed certificate for these names (selfsigned: no openssl CLI needed). */
    async function selfSigned(altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }>): Promise<{ key: string; cert: string }> {
      const pems = await generateCertificate([{ name: "commonName", value: "keepalive-test" }], {
        keyType: "ec",
        notAfterDate: new Date(Date.now() + 86_400_000),
        extensions: [{ name: "subjectAltName", altNames }],
      });
      return { key: pems.private, cert: pems.cert };
    }

    before(async () => {
      [certificate, foreignCertificate] = await Promise.all([
        selfSigned([
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ]),
        selfSigned([{ type: 2, value: "sqs.elsewhere.invalid" }]),
      ]);
    });

    async function startHttpsServer(credentials: { key: string; cert: string }): Promise<{ port: string; connections: () => number; requests: string[] }> {
      const requests: string[] = [];
      let connections = 0;
      const server = createHttpsServer(credentials, (request, response) => {
        let body = "";
        request.setEncoding("utf8");
        request.on("data", (chunk: string) => (body += chunk));
        request.on("end", () => {
          requests.push(`${request.method} ${request.url} ${body}`);
          response.setHeader("Content-Type", "application/x-amz-json-1.0");
          response.end(`secure ${body}`);
        });
      });
      server.on("secureConnection", () => connections++);
      const port = await listenOnLoopback(server);
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      return { port: String(port), connections: () => connections, requests };
    }

    it("speaks HTTP over TLS to a server its CA vouches for, by address and by name, and reuses the connection", async () => {
      // Prepare
      const server = await startHttpsServer(certificate);
      const client = newClient({ tls: { ca: certificate.cert } });
      const byAddress: HttpOrigin = { protocol: "https:", hostname: "127.0.0.1", port: server.port };
      const byName: HttpOrigin = { protocol: "https:", hostname: "localhost", port: server.port };

      // Act
      const answers = [await post(client, byAddress, "/q", "one ✓"), await post(client, byAddress, "/q", "two"), await post(client, byName, "/q", "three")];

      // Assess
      assert.deepEqual(answers, [
        { statusCode: 200, body: "secure one ✓" },
        { statusCode: 200, body: "secure two" },
        { statusCode: 200, body: "secure three" },
      ]);
      assert.deepEqual(server.requests, ["POST /q one ✓", "POST /q two", "POST /q three"]);
      assert.equal(server.connections(), 2, "one TLS connection per origin");
    });

    it("rejects a server whose certificate it does not trust, and sends nothing", async () => {
      // Prepare
      const server = await startHttpsServer(certificate);
      const client = newClient();

      // Act / Assess
      await assert.rejects(post(client, { protocol: "https:", hostname: "127.0.0.1", port: server.port }, "/q", "secret"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
      assert.deepEqual(server.requests, []);
    });

    it("rejects a trusted certificate issued for another name, and sends nothing", async () => {
      // Prepare
      const server = await startHttpsServer(foreignCertificate);
      const client = newClient({ tls: { ca: foreignCertificate.cert } });

      // Act / Assess
      await assert.rejects(post(client, { protocol: "https:", hostname: "127.0.0.1", port: server.port }, "/q", "secret"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
      await assert.rejects(post(client, { protocol: "https:", hostname: "localhost", port: server.port }, "/q", "secret"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
      assert.deepEqual(server.requests, []);
    });
  });
});
