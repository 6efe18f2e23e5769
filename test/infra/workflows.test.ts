import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { REPO_ROOT, STACKS } from "./pulumiHarness";

// Workflow files are untyped YAML; the assertions below narrow what they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Workflow = any;

function workflow(name: string): Workflow {
  return parse(fs.readFileSync(path.join(REPO_ROOT, ".github", "workflows", name), "utf8"));
}

function steps(job: Workflow): Workflow[] {
  return job.steps as Workflow[];
}

describe("GitHub workflows for users' repositories", () => {
  it("pull requests: test, build app/Dockerfile, preview every stack with a PR comment using OIDC", () => {
    const pr = workflow("pull-request.yml");
    assert.deepEqual(Object.keys(pr.on), ["pull_request"]);
    assert.ok(steps(pr.jobs.test).some((step) => step.run === "npm test"));
    const build = steps(pr.jobs.docker).find((step) => String(step.uses).startsWith("docker/build-push-action"));
    assert.equal(build.with.file, "app/Dockerfile");
    assert.equal(build.with.push, false);
    const preview = pr.jobs.preview;
    assert.deepEqual(preview.strategy.matrix.stack, [...STACKS]);
    assert.equal(preview.permissions["id-token"], "write");
    assert.equal(preview.permissions["pull-requests"], "write");
    const pulumiStep = steps(preview).find((step) => step.with?.command === "preview");
    assert.match(pulumiStep.uses, /^pulumi\/actions@/);
    assert.equal(pulumiStep.with["comment-on-pr"], true);
    assert.ok(steps(preview).some((step) => String(step.uses).startsWith("aws-actions/configure-aws-credentials")));
    assert.ok(steps(preview).some((step) => /pulumi config set .*imageTag/.test(step.run ?? "")), "preview sets the required imageTag");
  });

  it("pushes to main update dev; prod only by manual dispatch", () => {
    const deploy = workflow("deploy.yml");
    assert.deepEqual(deploy.on.push.branches, ["main"]);
    assert.ok(deploy.on.workflow_dispatch.inputs.stack.options.includes("prod"));
    assert.equal(deploy.jobs.up.environment, "${{ github.event_name == 'workflow_dispatch' && inputs.stack || 'dev' }}");
    assert.equal(deploy.jobs.up.permissions["id-token"], "write");
    assert.deepEqual(deploy.jobs.up.needs, "test");
    assert.ok(steps(deploy.jobs.up).some((step) => step.with?.command === "up"));
  });
});
