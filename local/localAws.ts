/**
 * Names and settings the local pipeline (`npm start`) and the DLQ tool (`npm run dlq`) agree on,
 * so that the tool finds the emulator a running pipeline started.
 */

/** Where `npm start` runs the SQS emulator unless told otherwise (LocalStack's 4566 is left free). */
export const DEFAULT_LOCAL_SQS_PORT = 4576;
export const LOCAL_SQS_HOST = "127.0.0.1";
export const LOCAL_QUEUE_NAME = "ws-relay-local";
export const LOCAL_DLQ_NAME = "ws-relay-local-dlq";
export const LOCAL_REGION = "us-east-1";

/** The SDK wants a region and credentials even for the emulator, which checks neither. */
export const LOCAL_AWS_ENV = Object.freeze({
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  // Local runs may be on Node 20; the deploy targets Node 22. The SDK's notice about that is noise here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});

export function localSqsEndpoint(port: number = DEFAULT_LOCAL_SQS_PORT): string {
  return `http://${LOCAL_SQS_HOST}:${port}`;
}
