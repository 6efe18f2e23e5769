import { parseArgs } from "node:util";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { DEFAULT_LOCAL_SQS_PORT, LOCAL_AWS_ENV, LOCAL_DLQ_NAME, LOCAL_REGION, localSqsEndpoint } from "./localAws";

const HELP = `npm run dlq -- <list|redrive> [options]

Looks at or empties the dead-letter queue, on the local emulator (what npm start runs) or on AWS.

  list       print the DLQ's messages without removing them (received with a short visibility
             timeout, then released at once)
  redrive    move the DLQ's messages back to their source queue

Where
  (default)              the local emulator at ${localSqsEndpoint()} (port: env LOCAL_SQS_PORT), DLQ ${LOCAL_DLQ_NAME}
  --endpoint <url>       another SQS-compatible endpoint (npm start prints the one it uses)
  --aws                  AWS itself: credentials and region from the usual chain (AWS_PROFILE, AWS_REGION, …)
  --queue <name>         the DLQ by name
  --queue-url <url>      the DLQ by URL (e.g. pulumi stack output dlqUrl)

Options
  --max <n>              list: at most this many messages (default 100)
  --json                 list: one JSON object per message
  --to <name|url>        redrive: destination (default: the queue whose redrive policy names this DLQ)
  -h, --help

On AWS, redrive starts an SQS message move task (StartMessageMoveTask) and prints its handle.
The local emulator has no move tasks, so there redrive receives, sends and deletes, 10 at a time.
`;

class UsageError extends Error {}
/** A failure with a message meant for the person at the terminal. */
class DlqError extends Error {}

interface Target {
  readonly sqs: SQSClient;
  readonly where: string;
  readonly local: boolean;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        endpoint: { type: "string" },
        aws: { type: "boolean" },
        queue: { type: "string" },
        "queue-url": { type: "string" },
        max: { type: "string" },
        json: { type: "boolean" },
        to: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0 || (command !== "list" && command !== "redrive")) throw new UsageError(`unknown command ${JSON.stringify(positionals.join(" "))}: expected list or redrive`);
  if (values.aws && values.endpoint) throw new UsageError("--aws and --endpoint exclude each other");
  if (values.queue && values["queue-url"]) throw new UsageError("--queue and --queue-url exclude each other");
  if (values.aws && !values.queue && !values["queue-url"]) throw new UsageError("--aws needs --queue <name> or --queue-url <url> (the stack's DLQ)");
  const max = values.max === undefined ? 100 : Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max: expected a whole number ≥ 1, got ${JSON.stringify(values.max)}`);

  const target = createTarget(values.aws === true, values.endpoint);
  try {
    const dlq = await resolveQueue(target, values["queue-url"] ?? values.queue ?? LOCAL_DLQ_NAME);
    if (command === "list") return await list(target, dlq, max, values.json === true);
    return await redrive(target, dlq, values.to);
  } finally {
    target.sqs.destroy();
  }
}

function createTarget(aws: boolean, endpoint: string | undefined): Target {
  if (aws) return { sqs: new SQSClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 } }), where: "AWS", local: false };
  const url = endpoint ?? localSqsEndpoint(process.env.LOCAL_SQS_PORT ? Number(process.env.LOCAL_SQS_PORT) : DEFAULT_LOCAL_SQS_PORT);
  const sqs = new SQSClient({
    endpoint: url,
    // Emulators hand out queue URLs whose host may not resolve: send every call to the endpoint.
    useQueueUrlAsEndpoint: false,
    region: process.env.AWS_REGION ?? LOCAL_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
  });
  return { sqs, where: url, local: true };
}

interface Queue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** A name or a URL → the queue's URL and ARN; a queue that does not exist is a clear error. */
async function resolveQueue(target: Target, nameOrUrl: string): Promise<Queue> {
  const isUrl = /^https?:\/\//.test(nameOrUrl);
  const name = isUrl ? (nameOrUrl.split("/").pop() ?? nameOrUrl) : nameOrUrl;
  try {
    const url = isUrl ? nameOrUrl : (await target.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const attributes = (await target.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes ?? {};
    return { name, url, arn: attributes.QueueArn ?? "" };
  } catch (error) {
    throw explain(error, target, name);
  }
}

async function list(target: Target, dlq: Queue, max: number, json: boolean): Promise<number> {
  const seen = new Map<string, Message>();
  const handles: string[] = [];
  try {
    // Each message is hidden for 30 s while we page through the queue (a visibility timeout of 0
    // would hand the same messages back on every call), then released at once below.
    while (seen.size < max) {
      const { Messages = [] } = await target.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.url,
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          VisibilityTimeout: 30,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
        if (message.MessageId && !seen.has(message.MessageId)) seen.set(message.MessageId, message);
      }
    }
  } catch (error) {
    throw explain(error, target, dlq.name);
  } finally {
    await release(target, dlq, handles);
  }
  for (const message of seen.values()) process.stdout.write(json ? `${JSON.stringify(asJson(message))}\n` : describe(message));
  process.stderr.write(`${seen.size} message(s) in ${dlq.name} at ${target.where}${seen.size === max ? ` (stopped at --max ${max})` : ""}\n`);
  return 0;
}

async function release(target: Target, dlq: Queue, handles: string[]): Promise<void> {
  for (let start = 0; start < handles.length; start += 10) {
    const entries = handles.slice(start, start + 10).map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 }));
    await target.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlq.url, Entries: entries })).catch(() => undefined);
  }
}

function asJson(message: Message): Record<string, unknown> {
  return {
    messageId: message.MessageId,
    sentTimestamp: Number(message.Attributes?.SentTimestamp),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount),
    messageAttributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [key, value.StringValue])),
    body: message.Body,
  };
}

function describe(message: Message): string {
  const sent = Number(message.Attributes?.SentTimestamp);
  const relay = Object.entries(message.MessageAttributes ?? {})
    .filter(([key]) => key.startsWith("relay."))
    .map(([key, value]) => `${key.slice("relay.".length)}=${value.StringValue}`);
  const body = message.Body ?? "";
  const shown = body.length > 300 ? `${body.slice(0, 300)}… (${body.length} characters)` : body;
  return `${message.MessageId}  sent ${Number.isFinite(sent) ? new Date(sent).toISOString() : "?"}  ${relay.join(" ")}\n  ${shown}\n`;
}

async function redrive(target: Target, dlq: Queue, to: string | undefined): Promise<number> {
  if (!target.local) {
    const destination = to === undefined ? undefined : await resolveQueue(target, to);
    try {
      const { TaskHandle } = await target.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, ...(destination ? { DestinationArn: destination.arn } : {}) }));
      process.stdout.write(
        `started a message move task from ${dlq.name} to ${destination?.name ?? "its source queue(s)"}: ${TaskHandle}\n` +
          `follow it with: aws sqs list-message-move-tasks --source-arn ${dlq.arn}\n`,
      );
      return 0;
    } catch (error) {
      throw explain(error, target, dlq.name);
    }
  }
  const destination = to === undefined ? await sourceQueueOf(target, dlq) : await resolveQueue(target, to);
  let moved = 0;
  try {
    for (;;) {
      const { Messages = [] } = await target.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"] }),
      );
      if (Messages.length === 0) break;
      const sent = await target.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: destination.url,
          Entries: Messages.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? "",
            ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
            ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
            ...(message.Attributes?.MessageDeduplicationId ? { MessageDeduplicationId: message.Attributes.MessageDeduplicationId } : {}),
          })),
        }),
      );
      // Delete only what the destination accepted; the rest reappears in the DLQ after 30 s.
      const accepted = (sent.Successful ?? []).map((entry) => Messages[Number(entry.Id)]!);
      if (accepted.length > 0) {
        await target.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlq.url, Entries: accepted.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) }));
      }
      moved += accepted.length;
      for (const failed of sent.Failed ?? []) process.stderr.write(`not moved: ${Messages[Number(failed.Id)]?.MessageId}: ${failed.Code} ${failed.Message ?? ""}\n`);
      if (accepted.length === 0) break;
    }
  } catch (error) {
    throw explain(error, target, dlq.name);
  }
  process.stdout.write(`moved ${moved} message(s) from ${dlq.name} to ${destination.name} at ${target.where}\n`);
  return 0;
}

/** The queue whose RedrivePolicy names this DLQ (what StartMessageMoveTask uses without a destination). */
async function sourceQueueOf(target: Target, dlq: Queue): Promise<Queue> {
  const { QueueUrls = [] } = await target.sqs.send(new ListQueuesCommand({}));
  const sources: Queue[] = [];
  for (const url of QueueUrls) {
    const { Attributes = {} } = await target.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy", "QueueArn"] }));
    if (!Attributes.RedrivePolicy) continue;
    const policy = JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string };
    if (policy.deadLetterTargetArn === dlq.arn) sources.push({ name: url.split("/").pop() ?? url, url, arn: Attributes.QueueArn ?? "" });
  }
  if (sources.length !== 1) {
    throw new DlqError(`${sources.length === 0 ? "no queue" : `${sources.length} queues`} at ${target.where} name ${dlq.name} as their DLQ: pass --to <queue>`);
  }
  return sources[0]!;
}

/** Turns the SDK's failures into sentences that say what to do. */
function explain(error: unknown, target: Target, queueName: string): Error {
  if (error instanceof DlqError) return error;
  const failure = error as Error & { code?: string; Code?: string; cause?: { code?: string } };
  const name = failure.name ?? "";
  if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue" || failure.Code === "AWS.SimpleQueueService.NonExistentQueue") {
    return new DlqError(`no queue named ${queueName} at ${target.where}${target.local ? " (is npm start running with this emulator? it prints the endpoint and queue names)" : " (check the name or URL, the account and AWS_REGION)"}`);
  }
  if (name === "CredentialsProviderError" || /Could not load credentials|credential/i.test(failure.message)) {
    return new DlqError("no AWS credentials found: set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; without --aws the tool talks to the local emulator, which needs none");
  }
  if (/Region is missing/i.test(failure.message)) return new DlqError("no AWS region: set AWS_REGION (e.g. eu-west-1, the dev stack's region)");
  const code = failure.code ?? failure.cause?.code;
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(failure.message)) {
    return new DlqError(`nothing answers at ${target.where}: start the pipeline with npm start (it prints its emulator endpoint), or pass --endpoint / --aws`);
  }
  return new DlqError(`${name || "error"}: ${failure.message}`);
}

// The SDK's notice about Node 20 (the deploy targets 22) would bury the tool's own output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`npm run dlq: ${error.message}\nnpm run dlq -- --help lists the commands and options.\n`);
      process.exitCode = 2;
    } else if (error instanceof DlqError) {
      process.stderr.write(`npm run dlq: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`npm run dlq: ${error.stack ?? error.message}\n`);
      process.exitCode = 1;
    }
  },
);
