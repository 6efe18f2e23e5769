import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import os from "node:os";
import { type HttpOrigin, KeepAliveHttpClient } from "../app/KeepAliveHttpClient";

/**
 * `npm run bench:http`: client CPU per request of node:http (keep-alive agent) and of the relay's
 * KeepAliveHttpClient, for the request the relay makes — a ~3.5 KB signed POST answered with a
 * ~1.2 KB SendMessageBatch result — against a loopback server in its own process (so only the
 * client's CPU is counted). Prints µs of CPU per request; no pass/fail.
 */

const SERVER = `
const http = require("node:http");
const answer = JSON.stringify({ Successful: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageId: "0123456789abcdef0123456789abcdef0123", MD5OfMessageBody: "0123456789abcdef0123456789abcdef", MD5OfMessageAttributes: "0123456789abcdef0123456789abcdef" })), Failed: [] });
const server = http.createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(answer), "x-amzn-requestid": "b1a2c3d4" });
    response.end(answer);
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 20_000);
const CONCURRENCY = 4;
const BODY = JSON.stringify({ QueueUrl: "http://127.0.0.1/000000000000/q", Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: "x".repeat(300) })) });

function headersFor(origin: HttpOrigin): Record<string, string> {
  return {
    "content-type": "application/x-amz-json-1.0",
    host: `${origin.hostname}:${origin.port}`,
    "x-amz-content-sha256": "a".repeat(64),
    "x-amz-date": "20261204T000000Z",
    "x-amz-target": "AmazonSQS.SendMessageBatch",
    authorization: `AWS4-HMAC-SHA256 Credential=test/20261204/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=${"b".repeat(64)}`,
    "content-length": String(Buffer.byteLength(BODY)),
    "user-agent": "ws-relay",
  };
}

function viaNodeHttp(origin: HttpOrigin, agent: http.Agent): () => Promise<string> {
  const headers = headersFor(origin);
  return () =>
    new Promise((resolve, reject) => {
      const request = http.request({ method: "POST", hostname: origin.hostname, port: origin.port, path: "/", headers, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        response.on("error", reject);
      });
      request.on("error", reject);
      request.end(BODY);
    });
}

function viaKeepAliveClient(origin: HttpOrigin, client: KeepAliveHttpClient): () => Promise<string> {
  const headers = headersFor(origin);
  return async () => (await client.post(origin, "/", headers, BODY, 5_000)).body;
}

/** CPU µs of this process per request, after a warm-up, with CONCURRENCY requests in flight. */
async function measure(call: () => Promise<string>): Promise<{ cpuMicrosPerRequest: number; requestsPerSecond: number }> {
  for (let i = 0; i < 500; i++) await call();
  let left = REQUESTS;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - startedAt) / 1000;
  return { cpuMicrosPerRequest: Math.round(((cpu.user + cpu.system) / REQUESTS) * 10) / 10, requestsPerSecond: Math.round(REQUESTS / seconds) };
}

async function main(): Promise<void> {
  const server: ChildProcess = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [line] = (await once(server.stdout!, "data")) as [Buffer];
    const origin: HttpOrigin = { protocol: "http:", hostname: "127.0.0.1", port: line.toString().trim() };
    const rows: Array<[string, { cpuMicrosPerRequest: number; requestsPerSecond: number }]> = [];
    for (let round = 1; round <= 3; round++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      rows.push([`node:http keep-alive agent (round ${round})`, await measure(viaNodeHttp(origin, agent))]);
      agent.destroy();
      const client = new KeepAliveHttpClient({ maxSockets: CONCURRENCY });
      rows.push([`KeepAliveHttpClient (round ${round})`, await measure(viaKeepAliveClient(origin, client))]);
      client.destroy();
    }
    process.stdout.write(`| client | CPU µs per request | requests/s |\n|---|---:|---:|\n`);
    for (const [name, result] of rows) process.stdout.write(`| ${name} | ${result.cpuMicrosPerRequest} | ${result.requestsPerSecond.toLocaleString("en")} |\n`);
    process.stdout.write(`\n${REQUESTS} requests each, ${CONCURRENCY} in flight; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}.\n`);
  } finally {
    server.kill();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:http failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
