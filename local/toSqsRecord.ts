import type { Message } from "@aws-sdk/client-sqs";
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";

export interface RecordSource {
  readonly queueArn: string;
  readonly region: string;
}

/**
 * One received SQS message in the shape the Lambda event source mapping delivers it: camelCase
 * record fields, system attributes under `attributes`, and message attributes with lowercase keys
 * (`stringValue`, `dataType`, …) where the SQS API says `StringValue`, `DataType`.
 */
export function toSqsRecord(message: Message, source: RecordSource): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
    SentTimestamp: system.SentTimestamp ?? String(Date.now()),
    SenderId: system.SenderId ?? "",
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(system.MessageGroupId !== undefined ? { MessageGroupId: system.MessageGroupId } : {}),
    ...(system.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: system.MessageDeduplicationId } : {}),
    ...(system.SequenceNumber !== undefined ? { SequenceNumber: system.SequenceNumber } : {}),
  };
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: (value.DataType ?? "String") as SQSMessageAttributes[string]["dataType"],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  };
}
