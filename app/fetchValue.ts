import type { JsonPointer } from "./JsonPointer";

export interface FetchValueRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** Where the value is in the JSON response; undefined when only the status matters. */
  readonly pointer: JsonPointer | undefined;
  readonly timeoutMs: number;
}

/** The HTTP step before a connect failed: the message says what came back, never a header. */
export class FetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FetchError";
  }
}

/**
 * Calls an HTTP endpoint (Slack apps.connections.open, a Binance listenKey) and returns the
 * string at the pointer in its JSON answer.
 */
export async function fetchValue(request: FetchValueRequest): Promise<string | undefined> {
  let response: Response;
  const where = new URL(request.url);
  const label = `${request.method} ${where.origin}${where.pathname}`;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.body !== undefined && !hasHeader(request.headers, "content-type") ? { "content-type": "application/json", ...request.headers } : { ...request.headers },
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    throw new FetchError(`${label} failed: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new FetchError(`${label} answered HTTP ${response.status}`);
  if (!request.pointer) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new FetchError(`${label} answered with something that is not JSON`);
  }
  const value = request.pointer.resolve(document);
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  throw new FetchError(`${label}: no string at ${request.pointer.text} in the answer`);
}

function hasHeader(headers: Readonly<Record<string, string>>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
