import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { createHandler, type OnEvent } from "../consumer/createHandler";
import { logEvent } from "../consumer/logEvent";
import { STOP_TIMEOUT_MARGIN_SECONDS, type RelayStackConfig } from "./config";
import { RELAY_HEALTH_PORT, relayEnvironment } from "./relayEnvironment";
import { subnetCidr } from "./subnetCidr";

export interface WebSocketRelayArgs extends RelayStackConfig {
  /** Handles each event in the consumer Lambda; serialized into the function. Default: logEvent. */
  readonly onEvent?: OnEvent;
  /** Docker build context and Dockerfile, relative to the Pulumi project (the repository root). */
  readonly dockerContext?: string;
  readonly dockerfile?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Packages the consumer Lambda may carry. Everything else in package.json `dependencies` (the AWS
 * SDK the runtime already ships, the relay's ws/pino/prom-client/zod, Pulumi itself) is excluded,
 * because CallbackFunction zips every dependency by default.
 */
export const CONSUMER_PACKAGES: readonly string[] = [
  "@aws-lambda-powertools/batch",
  "@aws-lambda-powertools/logger",
  "@aws-lambda-powertools/metrics",
];

const CONTAINER_NAME = "relay";
// The relay image has node but no curl (node:22-slim).
const HEALTH_CHECK_COMMAND = `node -e "fetch('http://localhost:${RELAY_HEALTH_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
// SQS: 1 MiB message limit since Aug 2025; DLQ keeps messages for the 14-day maximum.
const MAX_MESSAGE_BYTES = 1_048_576;
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
const QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;
// Rolling deploy: start the new relay before stopping the old one (overlap, never a gap). See README.
const DEPLOYMENT_MINIMUM_HEALTHY_PERCENT = 100;
const DEPLOYMENT_MAXIMUM_PERCENT = 200;

/**
 * One WebSocket feed relayed into SQS and consumed by a Lambda: image, queues, Fargate service,
 * consumer function, alarms and dashboard. A program may hold one per feed.
 */
export class WebSocketRelay extends pulumi.ComponentResource {
  readonly queueUrl: pulumi.Output<string>;
  readonly queueArn: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly imageUri: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;
  /** The SSM parameter holding the relay's resume cursor; undefined when no cursor is configured. */
  readonly cursorParameterName: pulumi.Output<string> | undefined;

  constructor(name: string, args: WebSocketRelayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ws-relay:index:WebSocketRelay", name, {}, opts);
    const parent = { parent: this };
    const tags = { "ws-relay:component": name, ...args.tags };
    // Names AWS wants chosen up front: unique per project, stack and component.
    const physicalName = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;

    const region = aws.getRegionOutput({}, parent).region;
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;

    // ---- Image -------------------------------------------------------------------------------
    const repository = new awsx.ecr.Repository(`${name}-repo`, {
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "MUTABLE",
      lifecyclePolicy: {
        rules: [
          { description: "drop untagged layers after a day", tagStatus: "untagged", maximumAgeLimit: 1 },
          { description: "keep the last 20 builds", tagStatus: "any", maximumNumberOfImages: 20 },
        ],
      },
      tags,
    }, parent);
    const image = new awsx.ecr.Image(`${name}-image`, {
      repositoryUrl: repository.url,
      context: args.dockerContext ?? ".",
      dockerfile: args.dockerfile ?? "app/Dockerfile",
      platform: args.architecture === "arm64" ? "linux/arm64" : "linux/amd64",
      imageTag: args.imageTag,
    }, parent);
    // <account>.dkr.ecr.<region>.amazonaws.com/<name> → the repository ARN for the pull policy.
    const repositoryArn = pulumi.interpolate`arn:${partition}:ecr:${region}:${accountId}:repository/${repository.url.apply((url) => url.slice(url.indexOf("/") + 1))}`;

    // ---- Queues ------------------------------------------------------------------------------
    const fifoArgs = args.fifo
      ? {
          fifoQueue: true,
          contentBasedDeduplication: args.dedupId === undefined,
          // Per-group dedup and throughput: high-throughput FIFO.
          ...(args.dedupScope === "messageGroup" ? { deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" } : {}),
        }
      : {};
    const dlq = new aws.sqs.Queue(`${name}-dlq`, {
      name: args.fifo ? `${physicalName}-dlq.fifo` : undefined,
      fifoQueue: args.fifo || undefined,
      sqsManagedSseEnabled: true,
      maxMessageSize: MAX_MESSAGE_BYTES,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      tags,
    }, parent);
    // AWS: visibility timeout ≥ function timeout or the mapping fails; 6× (plus the batching window) recommended.
    const visibilityTimeoutSeconds = 6 * args.lambdaTimeoutSeconds + args.batchingWindowSeconds;
    const queue = new aws.sqs.Queue(`${name}-queue`, {
      name: args.fifo ? `${physicalName}.fifo` : undefined,
      ...fifoArgs,
      sqsManagedSseEnabled: true,
      maxMessageSize: MAX_MESSAGE_BYTES,
      messageRetentionSeconds: QUEUE_RETENTION_SECONDS,
      visibilityTimeoutSeconds,
      redrivePolicy: dlq.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: args.maxReceiveCount })),
      tags,
    }, parent);
    new aws.sqs.RedriveAllowPolicy(`${name}-dlq-redrive-allow`, {
      queueUrl: dlq.url,
      redriveAllowPolicy: queue.arn.apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })),
    }, parent);

    // ---- Network -----------------------------------------------------------------------------
    const network = this.network(name, args, tags);
    const securityGroup = new aws.ec2.SecurityGroup(`${name}-relay-sg`, {
      description: "ws-relay: no ingress; egress to the feed, ECR, SQS and CloudWatch",
      vpcId: network.vpcId,
      ingress: [],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"], description: "all outbound" }],
      tags,
    }, parent);

    // ---- Relay service -----------------------------------------------------------------------
    const relayLogGroup = new aws.cloudwatch.LogGroup(`${name}-relay-logs`, { retentionInDays: args.logRetentionDays, tags }, parent);
    // Credentials reach the container only through `secrets`: ECS (the execution role) reads them.
    const containerSecret = (suffix: string, variable: string, value: pulumi.Output<string> | undefined) => {
      if (value === undefined) return undefined;
      const secret = new aws.secretsmanager.Secret(`${name}-${suffix}`, { description: `ws-relay ${name}: ${variable}`, tags }, parent);
      new aws.secretsmanager.SecretVersion(`${name}-${suffix}`, { secretId: secret.id, secretString: value }, parent);
      return { variable, arn: secret.arn };
    };
    const secrets = [
      containerSecret("feed-token", "RELAY_TOKEN", args.feedToken),
      containerSecret("fetch-headers", "RELAY_FETCH_HEADERS", args.fetchHeaders),
    ].filter((secret) => secret !== undefined);

    // The resume cursor lives in an SSM parameter the relay creates with its first PutParameter.
    // The program does not create it: SSM values cannot be empty, and any placeholder would be read
    // back by the relay as a real cursor. Deploys therefore never touch it (destroy leaves it; see README).
    const cursorParameterName = args.persistCursor ? `/${pulumi.getProject()}/${pulumi.getStack()}/${name}/cursor` : undefined;
    // A name starting with "/" follows "parameter" directly in the ARN.
    const cursorParameterArn = cursorParameterName === undefined ? undefined : pulumi.interpolate`arn:${partition}:ssm:${region}:${accountId}:parameter${cursorParameterName}`;

    const ecsAssumeRole = assumeRolePolicy("ecs-tasks.amazonaws.com");
    const executionRole = new aws.iam.Role(`${name}-relay-execution`, {
      description: "ws-relay: ECS agent pulls the image, writes logs, reads the relay's secrets",
      assumeRolePolicy: ecsAssumeRole,
      tags,
    }, parent);
    new aws.iam.RolePolicy(`${name}-relay-execution`, {
      role: executionRole.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          // GetAuthorizationToken has no resource-level permissions: it must be "*".
          { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
          { Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], Resource: repositoryArn },
          { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${relayLogGroup.arn}:*` },
          ...secrets.map((secret) => ({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secret.arn })),
        ],
      }),
    }, parent);
    const taskRole = new aws.iam.Role(`${name}-relay-task`, {
      description: "ws-relay: the relay's own AWS calls (send to its queue, keep its cursor)",
      assumeRolePolicy: ecsAssumeRole,
      tags,
    }, parent);
    // SSE-SQS needs no KMS permission (unlike a customer managed key).
    new aws.iam.RolePolicy(`${name}-relay-task`, {
      role: taskRole.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queue.arn },
          // Read at start, overwritten (Type String) while running and at shutdown: this one parameter only.
          ...(cursorParameterArn ? [{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: cursorParameterArn }] : []),
        ],
      }),
    }, parent);

    const cluster = new aws.ecs.Cluster(`${name}-cluster`, {
      // Container Insights publishes RunningTaskCount, which the "relay not running" alarm watches.
      settings: [{ name: "containerInsights", value: "enabled" }],
      tags,
    }, parent);
    const stopTimeoutSeconds = Math.ceil(args.relayShutdownTimeoutMs / 1000) + STOP_TIMEOUT_MARGIN_SECONDS;
    const containerDefinitions = pulumi
      .all([image.imageUri, queue.url, region, relayLogGroup.name, pulumi.all(secrets.map((secret) => secret.arn))])
      .apply(([imageUri, queueUrl, regionName, logGroupName, secretArns]) =>
        JSON.stringify([
          {
            name: CONTAINER_NAME,
            image: imageUri,
            essential: true,
            environment: relayEnvironment(args, queueUrl, regionName, cursorParameterName),
            secrets: secrets.map((secret, index) => ({ name: secret.variable, valueFrom: secretArns[index]! })),
            readonlyRootFilesystem: true,
            // The relay's HTTP port, for health checks inside the task only: the security group has no ingress.
            portMappings: [{ containerPort: RELAY_HEALTH_PORT, protocol: "tcp" }],
            healthCheck: { command: ["CMD-SHELL", HEALTH_CHECK_COMMAND], interval: 30, timeout: 5, retries: 3, startPeriod: 30 },
            stopTimeout: stopTimeoutSeconds,
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": logGroupName, "awslogs-region": regionName, "awslogs-stream-prefix": CONTAINER_NAME, mode: "non-blocking", "max-buffer-size": "4m" },
            },
          },
        ]),
      );
    const taskDefinition = new aws.ecs.TaskDefinition(`${name}-relay`, {
      family: physicalName,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: String(args.cpu),
      memory: String(args.memoryMb),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.architecture === "arm64" ? "ARM64" : "X86_64" },
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      containerDefinitions,
      tags,
    }, parent);
    const service = new aws.ecs.Service(`${name}-relay`, {
      cluster: cluster.arn,
      taskDefinition: taskDefinition.arn,
      desiredCount: args.desiredCount,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      networkConfiguration: { subnets: network.subnetIds, securityGroups: [securityGroup.id], assignPublicIp: network.assignPublicIp },
      deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
      deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      // `pulumi up` fails when the circuit breaker rolls a deploy back, instead of reporting success.
      waitForSteadyState: true,
      enableExecuteCommand: false,
      propagateTags: "SERVICE",
      tags,
    }, { parent: this, dependsOn: network.ready });

    // ---- Consumer Lambda ---------------------------------------------------------------------
    const consumerLogGroup = new aws.cloudwatch.LogGroup(`${name}-consumer-logs`, { retentionInDays: args.logRetentionDays, tags }, parent);
    const lambdaRole = new aws.iam.Role(`${name}-consumer`, {
      description: "ws-relay: consumer Lambda reads its queue and writes its logs",
      assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"),
      tags,
    }, parent);
    const lambdaPolicy = new aws.iam.RolePolicy(`${name}-consumer`, {
      role: lambdaRole.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${consumerLogGroup.arn}:*` },
          {
            Effect: "Allow",
            Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
            Resource: queue.arn,
          },
        ],
      }),
    }, parent);
    const consumerService = `${name}-consumer`;
    // Captured by value into the function's code: keep these plain values.
    const onEvent = args.onEvent ?? logEvent;
    const fifo = args.fifo;
    const consumer = new aws.lambda.CallbackFunction(`${name}-consumer`, {
      callbackFactory: () => createHandler(onEvent, { fifo }),
      role: lambdaRole,
      runtime: aws.lambda.Runtime.NodeJS22dX,
      architectures: ["arm64"],
      memorySize: args.lambdaMemoryMb,
      timeout: args.lambdaTimeoutSeconds,
      loggingConfig: { logFormat: "Text", logGroup: consumerLogGroup.name },
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: consumerService,
          POWERTOOLS_METRICS_NAMESPACE: "ws-relay",
          POWERTOOLS_LOG_LEVEL: "INFO",
        },
      },
      codePathOptions: { extraExcludePackages: excludedPackages() },
      tags,
    }, parent);
    new aws.lambda.EventSourceMapping(`${name}-consumer`, {
      eventSourceArn: queue.arn,
      functionName: consumer.arn,
      batchSize: args.batchSize,
      // FIFO mappings take no batching window.
      maximumBatchingWindowInSeconds: args.fifo ? undefined : args.batchingWindowSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: args.maxConcurrency },
      tags,
    }, { parent: this, dependsOn: [lambdaPolicy] });

    // ---- Alarms and dashboard ----------------------------------------------------------------
    const topic = new aws.sns.Topic(`${name}-alarms`, { tags }, parent);
    if (args.alarmEmail !== undefined) {
      new aws.sns.TopicSubscription(`${name}-alarms-email`, { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail }, parent);
    }
    const alarm = (suffix: string, description: string, alarmArgs: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">) =>
      new aws.cloudwatch.MetricAlarm(`${name}-${suffix}`, {
        alarmDescription: `ws-relay ${name}: ${description}`,
        alarmActions: [topic.arn],
        okActions: [topic.arn],
        tags,
        ...alarmArgs,
      }, parent);
    alarm("dlq-not-empty", "messages in the dead-letter queue (the consumer gave up on them)", {
      namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: dlq.name },
      statistic: "Maximum", period: 60, evaluationPeriods: 1, threshold: 0, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching",
    });
    alarm("queue-oldest-message", `oldest message older than ${args.oldestMessageAlarmSeconds} s (the consumer is behind or failing)`, {
      namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: queue.name },
      statistic: "Maximum", period: 60, evaluationPeriods: 5, threshold: args.oldestMessageAlarmSeconds, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching",
    });
    if (args.desiredCount > 0) {
      // A relay that stays disconnected fails /healthz, so ECS replaces it: the running count dips.
      alarm("relay-not-running", `fewer than ${args.desiredCount} relay task(s) running for 3 minutes`, {
        namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", dimensions: { ClusterName: cluster.name, ServiceName: service.name },
        statistic: "Minimum", period: 60, evaluationPeriods: 3, threshold: args.desiredCount, comparisonOperator: "LessThanThreshold", treatMissingData: "breaching",
      });
    }
    alarm("consumer-errors", "consumer Lambda invocations failed", {
      namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: consumer.name },
      statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching",
    });
    alarm("consumer-throttles", "consumer Lambda throttled (account concurrency exhausted)", {
      namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: consumer.name },
      statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching",
    });

    const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
      dashboardName: physicalName,
      dashboardBody: pulumi
        .all([region, cluster.name, service.name, queue.name, dlq.name, consumer.name])
        .apply(([regionName, clusterName, serviceName, queueName, dlqName, functionName]) =>
          JSON.stringify(dashboardBody({ regionName, clusterName, serviceName, queueName, dlqName, functionName, consumerService })),
        ),
    }, parent);

    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.dlqUrl = dlq.url;
    this.functionName = consumer.name;
    this.imageUri = image.imageUri;
    this.serviceName = service.name;
    this.alarmTopicArn = topic.arn;
    this.cursorParameterName = cursorParameterName === undefined ? undefined : pulumi.output(cursorParameterName);
    this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboard.dashboardName}`;
    this.registerOutputs({
      queueUrl: this.queueUrl,
      queueArn: this.queueArn,
      dlqUrl: this.dlqUrl,
      functionName: this.functionName,
      imageUri: this.imageUri,
      serviceName: this.serviceName,
      dashboardUrl: this.dashboardUrl,
      alarmTopicArn: this.alarmTopicArn,
      cursorParameterName: this.cursorParameterName,
    });
  }

  /** The existing subnets, or a VPC with one public subnet per zone and no NAT gateway (none needed: tasks get public IPs). */
  private network(name: string, args: WebSocketRelayArgs, tags: Record<string, string>) {
    const config = args.network;
    if (config.kind === "existing") {
      return { vpcId: pulumi.output(config.vpcId), subnetIds: pulumi.output([...config.subnetIds]), assignPublicIp: config.assignPublicIp, ready: [] as pulumi.Resource[] };
    }
    const parent = { parent: this };
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent).names;
    const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: config.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: `${name}-vpc` } }, parent);
    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
    const routeTable = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags }, parent);
    const route = new aws.ec2.Route(`${name}-public-default`, { routeTableId: routeTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: gateway.id }, parent);
    const subnets: aws.ec2.Subnet[] = [];
    const ready: pulumi.Resource[] = [route];
    for (let index = 0; index < config.availabilityZoneCount; index++) {
      const subnet = new aws.ec2.Subnet(`${name}-public-${index}`, {
        vpcId: vpc.id,
        cidrBlock: subnetCidr(config.vpcCidr, 4, index),
        availabilityZone: zones.apply((names) => {
          const zone = names[index];
          if (zone === undefined) throw new Error(`ws-relay:availabilityZoneCount: the region has only ${names.length} zones, ${config.availabilityZoneCount} asked`);
          return zone;
        }),
        mapPublicIpOnLaunch: false,
        tags: { ...tags, Name: `${name}-public-${index}` },
      }, parent);
      ready.push(new aws.ec2.RouteTableAssociation(`${name}-public-${index}`, { subnetId: subnet.id, routeTableId: routeTable.id }, parent));
      subnets.push(subnet);
    }
    return { vpcId: vpc.id, subnetIds: pulumi.all(subnets.map((subnet) => subnet.id)), assignPublicIp: true, ready };
  }
}

function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Every direct dependency of the project except the consumer's own packages. */
export function excludedPackages(packageJsonPath = path.join(__dirname, "..", "package.json")): string[] {
  const manifest = JSON.parse(fs.readFileSync(packageJsonPath, "utf8")) as { dependencies?: Record<string, string> };
  return Object.keys(manifest.dependencies ?? {}).filter((pkg) => !CONSUMER_PACKAGES.includes(pkg));
}

interface DashboardNames {
  regionName: string;
  clusterName: string;
  serviceName: string;
  queueName: string;
  dlqName: string;
  functionName: string;
  consumerService: string;
}

function dashboardBody(names: DashboardNames): object {
  const widget = (x: number, y: number, title: string, metrics: unknown[][], stat = "Sum") => ({
    type: "metric",
    x,
    y,
    width: 8,
    height: 6,
    properties: { title, region: names.regionName, stat, period: 60, view: "timeSeries", metrics },
  });
  const service = { ClusterName: names.clusterName, ServiceName: names.serviceName };
  return {
    widgets: [
      widget(0, 0, "Relay tasks running", [["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", service.ClusterName, "ServiceName", service.ServiceName]], "Minimum"),
      widget(8, 0, "Relay CPU / memory %", [
        ["AWS/ECS", "CPUUtilization", "ClusterName", service.ClusterName, "ServiceName", service.ServiceName],
        ["AWS/ECS", "MemoryUtilization", "ClusterName", service.ClusterName, "ServiceName", service.ServiceName],
      ], "Maximum"),
      widget(16, 0, "Messages sent by the relay", [["AWS/SQS", "NumberOfMessagesSent", "QueueName", names.queueName]]),
      widget(0, 6, "Queue depth", [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", names.queueName],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", names.dlqName, { label: "DLQ" }],
      ], "Maximum"),
      widget(8, 6, "Oldest message (s)", [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", names.queueName]], "Maximum"),
      widget(16, 6, "Feed → Lambda age (ms)", [
        ["ws-relay", "FeedToLambdaAgeMs", "service", names.consumerService, { stat: "p50" }],
        ["ws-relay", "FeedToLambdaAgeMs", "service", names.consumerService, { stat: "p99" }],
      ], "p99"),
      widget(0, 12, "Consumer invocations / errors / throttles", [
        ["AWS/Lambda", "Invocations", "FunctionName", names.functionName],
        ["AWS/Lambda", "Errors", "FunctionName", names.functionName],
        ["AWS/Lambda", "Throttles", "FunctionName", names.functionName],
      ]),
      widget(8, 12, "Consumer duration (ms)", [["AWS/Lambda", "Duration", "FunctionName", names.functionName, { stat: "p99" }]], "p99"),
      widget(16, 12, "Consumer concurrency", [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", names.functionName]], "Maximum"),
    ],
  };
}
