import { createHmac, hash } from "node:crypto";
import { KeepAliveHttpClient } from "./KeepAliveHttpClient";
import { batchRequestBody, type FrameRecord } from "./frameRecord";
import type { BatchAnswer, BatchSender } from "./SqsForwarder";

/** What the sender needs from the SDK: its region and its (cached, refreshed) credential chain. */
export interface AwsIdentitySource {
  region(): Promise<string>;
  credentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  /** Frees what the source holds (the SDK client behind it), called by the sender's destroy(). */
  release?(): void;
}

export interface SqsJsonSenderOptions {
  /** AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL; without it, calls go to the queue URL's host, as the SDK does. */
  readonly endpoint: string | undefined;
  readonly identity: AwsIdentitySource;
  readonly maxSockets: number;
}

/** An SQS error answer (AWS JSON 1.0: `__type` names it), thrown so the forwarder retries it. */
export class SqsHttpError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = name;
  }
}

interface Signing {
  readonly second: number;
  readonly amzDate: string;
  readonly scope: string;
  readonly key: Buffer;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Sends SendMessageBatch over SQS's AWS JSON 1.0 protocol with SigV4, on keep-alive sockets
 * (KeepAliveHttpClient, which says why not node:http).
 *
 * Why not SQSClient.send: in a 60,000-frame burst the SDK's per-call pipeline (middleware stack,
 * schema serde, signer, user agent, retry and endpoint middleware) was ~70 % of the relay's CPU
 * (bench/, `--cpu-prof`), about 0.7 ms per call. This does the same request in a fraction of it.
 * Region and credentials still come from the SDK's standard chain; like the SDK, it checks the
 * MD5 of each body SQS reports and fails the call on a mismatch.
 */
export class SqsJsonSender implements BatchSender {
  private readonly http: KeepAliveHttpClient;
  private signing: Signing | undefined;
  private readonly endpoint: URL | undefined;
  private lastQueue: { readonly url: string; readonly host: URL } | undefined;
  private region: string | undefined;

  constructor(private readonly options: SqsJsonSenderOptions) {
    this.endpoint = options.endpoint ? new URL(options.endpoint) : undefined;
    this.http = new KeepAliveHttpClient({ maxSockets: options.maxSockets });
  }

  async sendBatch(queueUrl: string, records: readonly FrameRecord[], timeoutMs: number): Promise<BatchAnswer> {
    const body = batchRequestBody(queueUrl, records);
    const target = this.endpoint ?? this.queueHost(queueUrl);
    // The region never changes: resolve it once. Credentials come from the SDK's provider each
    // call, which caches them and refreshes them before they expire.
    const region = (this.region ??= await this.options.identity.region());
    const credentials = await this.options.identity.credentials();
    const headers = signedHeaders(this.signingFor(credentials.accessKeyId, credentials.secretAccessKey, region, Date.now()), {
      host: target.host,
      body,
      sessionToken: credentials.sessionToken,
    });
    const answer = await this.http.post(target, "/", headers, body, timeoutMs);
    if (answer.statusCode !== 200) throw errorFrom(answer.statusCode, answer.body);
    const output = JSON.parse(answer.body) as BatchAnswer;
    checkMd5(records, output);
    return output;
  }

  /** Without an endpoint, calls go to the queue URL's host, as the SDK's do (parsed once per queue). */
  private queueHost(queueUrl: string): URL {
    if (this.lastQueue?.url !== queueUrl) this.lastQueue = { url: queueUrl, host: new URL(queueUrl) };
    return this.lastQueue.host;
  }

  /** Closes the keep-alive sockets (at shutdown). */
  destroy(): void {
    this.http.destroy();
    this.options.identity.release?.();
  }

  /**
   * What signing needs this second. X-Amz-Date has one-second resolution and the key depends only
   * on the secret, the day and the region, so both are derived when they change, not per call.
   */
  private signingFor(accessKeyId: string, secretAccessKey: string, region: string, nowMs: number): Signing {
    const second = Math.floor(nowMs / 1000);
    const cached = this.signing;
    if (cached && cached.second === second && cached.accessKeyId === accessKeyId && cached.secretAccessKey === secretAccessKey && cached.region === region) return cached;
    const amzDate = new Date(second * 1000).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const scope = `${amzDate.slice(0, 8)}/${region}/sqs/aws4_request`;
    const key =
      cached && cached.scope === scope && cached.secretAccessKey === secretAccessKey
        ? cached.key
        : hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, amzDate.slice(0, 8)), region), "sqs"), "aws4_request");
    this.signing = { second, amzDate, scope, key, region, accessKeyId, secretAccessKey };
    return this.signing;
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function sha256Hex(data: string): string {
  // One-shot crypto.hash: no Hash object per call (a few µs less per hash in the burst).
  return hash("sha256", data, "hex");
}

/** SigV4 (AWS Signature Version 4) headers for a POST / of the JSON protocol. Exported for its test. */
export function signedHeaders(
  signing: { scope: string; key: Buffer; accessKeyId: string; amzDate: string },
  request: { host: string; body: string; sessionToken: string | undefined },
): Record<string, string> {
  const payloadHash = sha256Hex(request.body);
  // Signed the way the SDK signs SQS calls, x-amz-content-sha256 included.
  const headers: Record<string, string> = {
    "content-type": "application/x-amz-json-1.0",
    host: request.host,
    "x-amz-content-sha256": payloadHash,
    "x-amz-date": signing.amzDate,
    "x-amz-target": "AmazonSQS.SendMessageBatch",
  };
  if (request.sessionToken) headers["x-amz-security-token"] = request.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim()}\n`).join("");
  const signedNames = names.join(";");
  const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedNames}\n${payloadHash}`;
  const stringToSign = `AWS4-HMAC-SHA256\n${signing.amzDate}\n${signing.scope}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac("sha256", signing.key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${signing.accessKeyId}/${signing.scope}, SignedHeaders=${signedNames}, Signature=${signature}`;
  headers["content-length"] = String(Buffer.byteLength(request.body));
  headers["user-agent"] = "ws-relay";
  return headers;
}

function errorFrom(statusCode: number, text: string): SqsHttpError {
  let type = "";
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    type = parsed.__type ?? "";
    message = parsed.message ?? parsed.Message ?? message;
  } catch {
    // not JSON (a proxy's error page, say): keep the text
  }
  const name = type.slice(type.lastIndexOf("#") + 1) || `HttpError${statusCode}`;
  return new SqsHttpError(name, `${name} (HTTP ${statusCode}): ${message}`, statusCode);
}

/** As the SDK does (md5 on by default): a body SQS reports with another MD5 was corrupted on the way. */
function checkMd5(records: readonly FrameRecord[], output: BatchAnswer): void {
  for (const ok of output.Successful ?? []) {
    const body = records[Number(ok.Id)]?.body;
    if (body === undefined || ok.MD5OfMessageBody === undefined) continue;
    if (hash("md5", body, "hex") !== ok.MD5OfMessageBody) {
      throw new SqsHttpError("InvalidChecksum", `MD5 of message ${ok.Id} does not match what SQS reported`, 200);
    }
  }
}
