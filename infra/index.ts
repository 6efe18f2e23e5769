import { readConfig } from "./config";
import { pulumiConfigSource } from "./pulumiConfigSource";
import { WebSocketRelay } from "./WebSocketRelay";

// One feed per stack here; a program can create several WebSocketRelay components, one per feed.
const config = readConfig(pulumiConfigSource());
const relay = new WebSocketRelay("relay", config);

export const queueUrl = relay.queueUrl;
export const queueArn = relay.queueArn;
export const dlqUrl = relay.dlqUrl;
export const functionName = relay.functionName;
export const imageUri = relay.imageUri;
export const serviceName = relay.serviceName;
export const dashboardUrl = relay.dashboardUrl;
export const alarmTopicArn = relay.alarmTopicArn;
export const cursorParameterName = relay.cursorParameterName;
