/**
 * scripts/deploy-time/build-image.mjs, which the cluster stack's build steps and `npm run deploy` run: against the
 * fake docker, with the settings the synthesized build step gives it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sharedDefaultRun, PROJECT_ROOT } from "./tools/synth";
import { FAKES_BIN, HEALTHY_DOCKER } from "./tools/lab-checkout";

const cluster = JSON.parse(sharedDefaultRun().files["stacks/cluster/cdk.tf.json"]);
/** The synthesized build steps, by image tag: the environment Terraform runs the script with. */
const buildSteps = Object.values<any>(cluster.resource.terraform_data)
  .filter((body) => body.provisioner?.[0]?.["local-exec"]?.command?.includes("build-image.mjs"))
  .map((body) => body.provisioner[0]["local-exec"])
  .sort((a, b) => b.environment.CONSUL_LAB_IMAGE_TAG.localeCompare(a.environment.CONSUL_LAB_IMAGE_TAG));

function runBuild(step: any, images: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-build-"));
  const state = join(dir, "docker.json");
  const log = join(dir, "calls.jsonl");
  writeFileSync(state, JSON.stringify({ ...HEALTHY_DOCKER, images }));
  // As Terraform runs it from the stack's directory, three levels below the project root.
  const stackDir = join(PROJECT_ROOT, "cdktf.out", "stacks", "cluster");
  const script = resolve(stackDir, step.command.replace(/^node /, ""));
  const result = spawnSync(process.execPath, [script], {
    encoding: "utf8",
    env: {
      ...process.env,
      ...step.environment,
      CONSUL_LAB_IMAGE_CONTEXT: resolve(stackDir, step.environment.CONSUL_LAB_IMAGE_CONTEXT),
      PATH: `${FAKES_BIN}:${process.env.PATH}`,
      FAKE_DOCKER_STATE: state,
      FAKE_LOG: log,
      ...env,
    },
  });
  const calls = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).argv.join(" "));
  return { ...result, calls, images: JSON.parse(readFileSync(state, "utf8")).images as string[] };
}

describe("the image build step", () => {
  it("is synthesized for each image the lab builds, run from the stack's directory", () => {
    expect(buildSteps.map((step) => step.environment.CONSUL_LAB_IMAGE_TAG)).toEqual([
      expect.stringMatching(/^consul-lab-load-balancer:[0-9a-f]{12}$/),
      expect.stringMatching(/^consul-lab-dnsmasq:[0-9a-f]{12}$/),
    ]);
    for (const step of buildSteps) {
      expect(step.command).toBe("node ../../../scripts/deploy-time/build-image.mjs");
      expect(step.environment.CONSUL_LAB_IMAGE_CONTEXT).toMatch(/^\.\.\/\.\.\/\.\.\/assets\/[a-z-]+$/);
    }
  });

  it("builds an image that is not local with buildx --load and the pinned bases as build args", () => {
    const [loadBalancer] = buildSteps;
    const run = runBuild(loadBalancer, []);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const build = run.calls.find((call) => call.startsWith("buildx build"))!;
    expect(build).toContain(`--load --tag ${loadBalancer.environment.CONSUL_LAB_IMAGE_TAG}`);
    expect(build).toContain(
      "--build-arg NGINX_IMAGE=nginx:1.27-alpine --build-arg CONSUL_TEMPLATE_IMAGE=hashicorp/consul-template:0.43.0",
    );
    expect(run.images).toContain(loadBalancer.environment.CONSUL_LAB_IMAGE_TAG);
    expect(run.stdout).toContain("built");
  });

  it("leaves an image whose tag is local alone", () => {
    const [, dnsmasq] = buildSteps;
    const run = runBuild(dnsmasq, [dnsmasq.environment.CONSUL_LAB_IMAGE_TAG]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`${dnsmasq.environment.CONSUL_LAB_IMAGE_TAG}: present`);
    expect(run.calls.some((call) => call.includes("build"))).toBe(false);
  });

  it("fails with the builder's exit status when the build fails", () => {
    const [, dnsmasq] = buildSteps;
    // No buildx, and the legacy builder fails.
    const run = runBuild(dnsmasq, [], { FAKE_FAIL: "docker:buildx,docker:build" });
    expect(run.calls).toContainEqual(expect.stringMatching(/^build --tag consul-lab-dnsmasq/));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/build-image: docker build of consul-lab-dnsmasq:[0-9a-f]{12} failed \(exit 1\)/);
  });
});
