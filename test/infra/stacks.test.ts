import assert from "node:assert/strict";
import { readConfig, type RelayStackConfig } from "../../infra/config";
import { DEPLOY_TIME_CONFIG, physicalName, runProgram, stackConfig, STACKS, type RecordedResource, type StackRun } from "./pulumiHarness";

const T = {
  queue: "aws:sqs/queue:Queue",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  policy: "aws:iam/policy:Policy",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  cluster: "aws:ecs/cluster:Cluster",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  func: "aws:lambda/function:Function",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  image: "awsx:ecr:Image",
  repository: "awsx:ecr:Repository",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  secret: "aws:secretsmanager/secret:Secret",
  redriveAllow: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
} as const;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

function statements(policy: RecordedResource): Statement[] {
  const document = JSON.parse(policy.inputs.policy as string) as { Statement: Statement[] };
  return document.Statement;
}

function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

/** The policy statements attached (inline) to a role, found by the role's logical name. */
function roleStatements(run: StackRun, roleName: string): Statement[] {
  return statements(run.one(T.rolePolicy, roleName));
}

interface ContainerDefinition {
  name: string;
  image: string;
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
  healthCheck: { command: string[] };
  stopTimeout: number;
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

function container(run: StackRun): ContainerDefinition {
  const [taskDefinition] = run.ofType(T.taskDefinition);
  const definitions = JSON.parse(taskDefinition!.inputs.containerDefinitions as string) as ContainerDefinition[];
  assert.equal(definitions.length, 1);
  return definitions[0]!;
}

function env(run: StackRun): Record<string, string> {
  return Object.fromEntries(container(run).environment.map((entry) => [entry.name, entry.value]));
}

/** The stack file's config as the program sees it, for expected values. */
function expectedConfig(stack: (typeof STACKS)[number]): RelayStackConfig {
  const config: Record<string, string> = { ...stackConfig(stack), ...DEPLOY_TIME_CONFIG };
  return readConfig({
    get: (key) => config[`ws-relay:${key}`],
    getSecret: () => undefined,
    isSecret: () => false,
  });
}

const runs = new Map<string, StackRun>();

for (const stack of STACKS) {
  describe(`stack ${stack} (Pulumi.${stack}.yaml under mocks)`, () => {
    let run: StackRun;
    let config: RelayStackConfig;

    before(async () => {
      run = await runProgram({ ...stackConfig(stack), ...DEPLOY_TIME_CONFIG }, { stack });
      runs.set(stack, run);
      config = expectedConfig(stack);
    });

    it("attaches no managed *FullAccess/PowerUser policy and grants no \"*\" action anywhere", () => {
      assert.deepEqual(run.ofType(T.attachment), [], "no managed policy attachments at all");
      for (const role of run.ofType(T.role)) assert.equal(role.inputs.managedPolicyArns, undefined, role.name);
      const everything = JSON.stringify(run.resources.map((resource) => resource.inputs));
      assert.doesNotMatch(everything, /FullAccess|PowerUser|AdministratorAccess/);
      const policies = [...run.ofType(T.rolePolicy), ...run.ofType(T.policy)];
      assert.ok(policies.length >= 3);
      for (const policy of policies) {
        for (const statement of statements(policy)) {
          for (const action of asList(statement.Action)) assert.doesNotMatch(action, /\*/, `${policy.name}: ${action}`);
          // The only resource-wide grant is ECR's token call, which has no resource-level permissions.
          if (asList(statement.Resource).includes("*")) assert.deepEqual(asList(statement.Action), ["ecr:GetAuthorizationToken"], policy.name);
        }
      }
    });

    it("gives the relay a task role separate from its execution role, reaching only this queue", () => {
      const [taskDefinition] = run.ofType(T.taskDefinition);
      assert.ok(taskDefinition!.inputs.taskRoleArn);
      assert.notEqual(taskDefinition!.inputs.taskRoleArn, taskDefinition!.inputs.executionRoleArn);
      assert.match(taskDefinition!.inputs.taskRoleArn as string, /relay-relay-task/);
      assert.match(taskDefinition!.inputs.executionRoleArn as string, /relay-relay-execution/);
      assert.deepEqual(roleStatements(run, "relay-relay-task"), [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: run.outputs.queueArn }]);
      const execution = roleStatements(run, "relay-relay-execution");
      assert.ok(execution.every((statement) => asList(statement.Action).every((action) => /^(ecr|logs|secretsmanager):/.test(action))));
      assert.ok(!execution.some((statement) => asList(statement.Action).some((action) => action.startsWith("sqs:"))), "execution role cannot send");
    });

    it("runs the relay with the env contract, a /healthz check, a stop timeout above its shutdown deadline and no token", () => {
      const definition = container(run);
      const variables = env(run);
      assert.equal(variables.RELAY_URL, config.feedUrl);
      assert.equal(variables.RELAY_QUEUE_URL, run.outputs.queueUrl);
      assert.deepEqual(JSON.parse(variables.RELAY_SUBSCRIBE!), config.feedSubscribe);
      assert.equal(variables.RELAY_HEALTH_PORT, "8080");
      assert.equal(variables.RELAY_SHUTDOWN_TIMEOUT_MS, String(config.relayShutdownTimeoutMs));
      assert.equal(variables.RELAY_IDLE_TIMEOUT_MS, String(config.relayIdleTimeoutMs));
      assert.equal(variables.LOG_LEVEL, config.relayLogLevel);
      assert.equal(variables.AWS_REGION, run.region);
      assert.equal(variables.RELAY_MESSAGE_GROUP_ID, config.messageGroupId);
      assert.equal(variables.RELAY_DEDUP_ID, config.dedupId);
      for (const name of Object.keys(variables)) assert.doesNotMatch(name, /TOKEN/);
      assert.deepEqual(definition.secrets, [], "no token configured in the stack file: no secret");
      assert.deepEqual(run.ofType(T.secret), []);
      assert.deepEqual(definition.healthCheck.command, [
        "CMD-SHELL",
        "node -e \"fetch('http://localhost:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\"",
      ]);
      assert.ok(definition.stopTimeout * 1000 > config.relayShutdownTimeoutMs);
      assert.ok(definition.stopTimeout <= 120);
      assert.equal(definition.image, run.outputs.imageUri);
      assert.match(definition.image, new RegExp(`:${DEPLOY_TIME_CONFIG["ws-relay:imageTag"]}$`));
    });

    it("builds the image for the task's architecture from app/Dockerfile, into a scanned repository with lifecycle rules", () => {
      const [image] = run.ofType(T.image);
      const [taskDefinition] = run.ofType(T.taskDefinition);
      const architecture = taskDefinition!.inputs.runtimePlatform.cpuArchitecture as string;
      assert.equal(architecture, config.architecture === "arm64" ? "ARM64" : "X86_64");
      assert.equal(image!.inputs.platform, architecture === "ARM64" ? "linux/arm64" : "linux/amd64");
      assert.equal(image!.inputs.dockerfile, "app/Dockerfile");
      assert.equal(image!.inputs.context, ".");
      assert.equal(image!.inputs.imageTag, DEPLOY_TIME_CONFIG["ws-relay:imageTag"]);
      const [repository] = run.ofType(T.repository);
      assert.equal(repository!.inputs.imageScanningConfiguration.scanOnPush, true);
      assert.ok(repository!.inputs.lifecyclePolicy.rules.length >= 1);
    });

    it("deploys the service with a circuit breaker, chosen deployment percentages, explicit subnets and a security group with no ingress", () => {
      const [service] = run.ofType(T.service);
      assert.deepEqual(service!.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
      assert.equal(service!.inputs.deploymentMinimumHealthyPercent, 100);
      assert.equal(service!.inputs.deploymentMaximumPercent, 200);
      assert.equal(service!.inputs.desiredCount, config.desiredCount);
      assert.equal(service!.inputs.launchType, "FARGATE");
      const network = service!.inputs.networkConfiguration;
      assert.equal(network.subnets.length, config.network.kind === "create" ? config.network.availabilityZoneCount : config.network.subnetIds.length);
      assert.equal(network.securityGroups.length, 1);
      const groups = run.ofType(T.securityGroup);
      assert.equal(groups.length, 1);
      assert.deepEqual(groups[0]!.inputs.ingress ?? [], []);
      assert.deepEqual([...run.ofType(T.securityGroupRule), ...run.ofType(T.ingressRule)], []);
      const [taskDefinition] = run.ofType(T.taskDefinition);
      assert.equal(taskDefinition!.inputs.cpu, String(config.cpu));
      assert.equal(taskDefinition!.inputs.memory, String(config.memoryMb));
      const [cluster] = run.ofType(T.cluster);
      assert.deepEqual(cluster!.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
    });

    it("encrypts both queues, redrives to the DLQ and keeps visibility ≥ 6 × the Lambda timeout", () => {
      const queue = run.one(T.queue, "relay-queue");
      const dlq = run.one(T.queue, "relay-dlq");
      for (const q of [queue, dlq]) {
        assert.equal(q.inputs.sqsManagedSseEnabled, true, q.name);
        assert.equal(q.inputs.maxMessageSize, 1_048_576, q.name);
      }
      assert.equal(dlq.inputs.messageRetentionSeconds, 14 * 24 * 3600);
      const dlqArn = `arn:aws:sqs:${run.region}:123456789012:${physicalName(T.queue, dlq.name, dlq.inputs)}`;
      assert.deepEqual(JSON.parse(queue.inputs.redrivePolicy as string), { deadLetterTargetArn: dlqArn, maxReceiveCount: config.maxReceiveCount });
      const [allow] = run.ofType(T.redriveAllow);
      assert.deepEqual(JSON.parse(allow!.inputs.redriveAllowPolicy as string), { redrivePermission: "byQueue", sourceQueueArns: [run.outputs.queueArn] });
      assert.equal(allow!.inputs.queueUrl, run.outputs.dlqUrl);
      assert.ok(queue.inputs.visibilityTimeoutSeconds >= 6 * config.lambdaTimeoutSeconds);
      assert.ok(queue.inputs.visibilityTimeoutSeconds <= 43_200, "SQS maximum 12 h");
      if (config.fifo) {
        assert.equal(queue.inputs.fifoQueue, true);
        assert.equal(dlq.inputs.fifoQueue, true);
        assert.match(queue.inputs.name as string, /\.fifo$/);
        assert.match(dlq.inputs.name as string, /\.fifo$/);
      } else {
        assert.equal(queue.inputs.fifoQueue, undefined);
        assert.equal(dlq.inputs.fifoQueue, undefined);
      }
    });

    it("runs the consumer on nodejs22.x arm64 with its own least-privilege role and config-driven sizes", () => {
      const [func] = run.ofType(T.func);
      assert.equal(func!.inputs.runtime, "nodejs22.x");
      assert.deepEqual(func!.inputs.architectures, ["arm64"]);
      assert.equal(func!.inputs.memorySize, config.lambdaMemoryMb);
      assert.equal(func!.inputs.timeout, config.lambdaTimeoutSeconds);
      assert.equal(func!.inputs.handler, "__index.handler");
      assert.match(func!.inputs.role as string, /relay-consumer/);
      const grants = roleStatements(run, "relay-consumer");
      const sqs = grants.find((statement) => asList(statement.Action).some((action) => action.startsWith("sqs:")))!;
      assert.deepEqual(new Set(asList(sqs.Action)), new Set(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]));
      assert.deepEqual(asList(sqs.Resource), [run.outputs.queueArn]);
      assert.ok(grants.every((statement) => asList(statement.Action).every((action) => /^(sqs|logs):/.test(action))));
    });

    it("maps the queue to the function with ReportBatchItemFailures and the configured batching and concurrency", () => {
      const [mapping] = run.ofType(T.mapping);
      assert.deepEqual(mapping!.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
      assert.equal(mapping!.inputs.eventSourceArn, run.outputs.queueArn);
      assert.equal(mapping!.inputs.batchSize, config.batchSize);
      assert.equal(mapping!.inputs.maximumBatchingWindowInSeconds, config.fifo ? undefined : config.batchingWindowSeconds);
      assert.deepEqual(mapping!.inputs.scalingConfig, { maximumConcurrency: config.maxConcurrency });
    });

    it("sets retention on every log group, and both the relay and the consumer write to one of them", () => {
      const groups = run.ofType(T.logGroup);
      assert.equal(groups.length, 2);
      for (const group of groups) assert.equal(group.inputs.retentionInDays, config.logRetentionDays, group.name);
      const relayLogs = container(run).logConfiguration;
      assert.equal(relayLogs.logDriver, "awslogs");
      const relayGroup = run.one(T.logGroup, "relay-relay-logs");
      assert.equal(relayLogs.options["awslogs-group"], physicalName(T.logGroup, relayGroup.name, relayGroup.inputs));
      const [func] = run.ofType(T.func);
      const consumerGroup = run.one(T.logGroup, "relay-consumer-logs");
      assert.equal(func!.inputs.loggingConfig.logGroup, physicalName(T.logGroup, consumerGroup.name, consumerGroup.inputs));
    });

    it("alarms on the DLQ, message age, the relay's running count, Lambda errors and throttles, all to the topic", () => {
      const alarms = run.ofType(T.alarm);
      const metrics = alarms.map((alarm) => `${alarm.inputs.namespace}/${alarm.inputs.metricName}`).sort();
      assert.deepEqual(metrics, [
        "AWS/Lambda/Errors",
        "AWS/Lambda/Throttles",
        "AWS/SQS/ApproximateAgeOfOldestMessage",
        "AWS/SQS/ApproximateNumberOfMessagesVisible",
        "ECS/ContainerInsights/RunningTaskCount",
      ]);
      const dlqAlarm = alarms.find((alarm) => alarm.inputs.metricName === "ApproximateNumberOfMessagesVisible")!;
      const dlq = run.one(T.queue, "relay-dlq");
      assert.equal(dlqAlarm.inputs.dimensions.QueueName, physicalName(T.queue, dlq.name, dlq.inputs));
      assert.equal(dlqAlarm.inputs.threshold, 0);
      const running = alarms.find((alarm) => alarm.inputs.metricName === "RunningTaskCount")!;
      assert.equal(running.inputs.threshold, config.desiredCount);
      assert.equal(running.inputs.comparisonOperator, "LessThanThreshold");
      for (const alarm of alarms) assert.deepEqual(alarm.inputs.alarmActions, [run.outputs.alarmTopicArn], alarm.name);
      const subscriptions = run.ofType(T.subscription);
      assert.deepEqual(subscriptions.map((subscription) => subscription.inputs.endpoint), config.alarmEmail ? [config.alarmEmail] : []);
    });

    it("draws a dashboard of relay, queue and consumer figures, the age metric under the consumer's own service name", () => {
      const [dashboard] = run.ofType("aws:cloudwatch/dashboard:Dashboard");
      const body = JSON.parse(dashboard!.inputs.dashboardBody as string) as { widgets: Array<{ properties: { metrics: unknown[][] } }> };
      const rows = body.widgets.flatMap((widget) => widget.properties.metrics);
      const namespaces = new Set(rows.map((row) => row[0]));
      for (const namespace of ["ECS/ContainerInsights", "AWS/SQS", "AWS/Lambda"]) assert.ok(namespaces.has(namespace), namespace);
      const [func] = run.ofType(T.func);
      const variables = func!.inputs.environment.variables as Record<string, string>;
      const age = rows.find((row) => row[1] === "FeedToLambdaAgeMs")!;
      assert.deepEqual(age.slice(0, 4), [variables.POWERTOOLS_METRICS_NAMESPACE, "FeedToLambdaAgeMs", "service", variables.POWERTOOLS_SERVICE_NAME]);
      const queue = run.one(T.queue, "relay-queue");
      assert.ok(rows.some((row) => row[0] === "AWS/SQS" && row[3] === physicalName(T.queue, queue.name, queue.inputs)));
    });

    it("exports the queue, DLQ, function, image, service and dashboard", () => {
      for (const key of ["queueUrl", "queueArn", "dlqUrl", "functionName", "imageUri", "serviceName", "dashboardUrl"]) {
        assert.equal(typeof run.outputs[key], "string", key);
        assert.ok((run.outputs[key] as string).length > 0, key);
      }
      assert.match(run.outputs.dashboardUrl as string, new RegExp(`^https://${run.region}\\.console\\.aws\\.amazon\\.com/cloudwatch/.*dashboards:name=ws-relay-${stack}-relay$`));
    });
  });
}

describe("prod differs from dev where it should", () => {
  let dev: StackRun;
  let prod: StackRun;
  before(async () => {
    dev = runs.get("dev") ?? (await runProgram({ ...stackConfig("dev"), ...DEPLOY_TIME_CONFIG }, { stack: "dev" }));
    prod = runs.get("prod") ?? (await runProgram({ ...stackConfig("prod"), ...DEPLOY_TIME_CONFIG }, { stack: "prod" }));
  });

  it("prod keeps logs longer, alerts someone, runs a bigger task and a FIFO queue with per-frame dedup; dev stays small", () => {
    const retention = (run: StackRun) => run.ofType(T.logGroup)[0]!.inputs.retentionInDays as number;
    assert.ok(retention(prod) > retention(dev));
    assert.equal(dev.ofType(T.subscription).length, 0);
    assert.equal(prod.ofType(T.subscription).length, 1);
    assert.ok(Number(prod.ofType(T.taskDefinition)[0]!.inputs.cpu) > Number(dev.ofType(T.taskDefinition)[0]!.inputs.cpu));
    assert.equal(prod.one(T.queue, "relay-queue").inputs.fifoQueue, true);
    assert.notEqual(env(prod).RELAY_DEDUP_ID, undefined);
    assert.equal(dev.one(T.queue, "relay-queue").inputs.fifoQueue, undefined);
    assert.notEqual(dev.region, prod.region);
    const cidr = (run: StackRun) => run.ofType("aws:ec2/vpc:Vpc")[0]!.inputs.cidrBlock as string;
    assert.notEqual(cidr(dev), cidr(prod));
  });
});
