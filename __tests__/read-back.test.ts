/**
 * A plan after a deploy stays empty on any host: every attribute a provider reads back is either configured exactly as
 * it comes back, or ignored because the engine changes it on its own (constructs/engine-read-back.ts), over every
 * container and Consul object of several labs. `npm run test:engine` shows on a real engine what the table says the
 * engine does.
 */
import { Testing } from "cdktf";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedTopology } from "./tools/generated-topology";
import { CONTAINER_READ_BACK, ENGINE_CHANGED_ATTRIBUTES } from "../constructs/engine-read-back";
import { ClusterStack, ConsulStack } from "../stacks";
import { Lab, NODE_CONTAINER_SUFFIXES } from "../topology";
import { formatGoDuration, parseGoDuration } from "../topology/go-duration";
import { articleInput, labOf, exampleLab } from "./tools/helpers";

const LABS: Record<string, () => Lab> = {
  "the article's lab": () => labOf(),
  "examples/shop-lab.yaml": () => exampleLab("shop-lab.yaml"),
  "examples/three-hosts.yaml": () => exampleLab("three-hosts.yaml"),
  "a generated 60-node lab": () => labOf(generatedTopology(60)),
};

function synthesized(lab: Lab) {
  const app = Testing.app();
  const cluster = new ClusterStack(app, "cluster", { lab });
  const consul = new ConsulStack(app, "consul", { lab, cluster });
  return { cluster: JSON.parse(Testing.synth(cluster)), consul: JSON.parse(Testing.synth(consul)) };
}

/**
 * Arguments of docker_container that are not ForceNew at v3.6.2 (resource_docker_container.go), so a difference on
 * read-back is at most an in-place update; with the reason each is stable.
 */
const NOT_FORCE_NEW: Record<string, string> = {
  "//": "cdktf's metadata",
  restart: "read back as sent",
  must_run: "Terraform-side",
  wait: "Terraform-side",
  wait_timeout: "Terraform-side",
  healthcheck: "durations read back in Go's printed form: checked below",
  depends_on: "Terraform's meta-argument",
  provider: "Terraform's meta-argument: the host's Docker provider, on a lab over several hosts",
  lifecycle: "Terraform's meta-argument",
};

const isGoCanonical = (text: string) => formatGoDuration(parseGoDuration(text) ?? -1n) === text;

describe.each(Object.entries(LABS))("read-back of %s", (_name, makeLab) => {
  const lab = makeLab();
  const { cluster, consul } = synthesized(lab);
  const containers = Object.entries<any>(cluster.resource.docker_container);

  it("names every container <lab>-<node>, or with one of the suffixes validation knows", () => {
    const names = new Set(
      lab.nodes
        .flatMap((node) => [node.name, ...NODE_CONTAINER_SUFFIXES.map((suffix) => `${node.name}-${suffix}`)])
        .map((name) => lab.dockerName(name)),
    );
    expect(containers.map(([, body]) => body.name).filter((name) => !names.has(name))).toEqual([]);
  });

  it("sets only container arguments whose read-back the table decides", () => {
    const undecided = containers.flatMap(([key, body]) =>
      Object.keys(body)
        .filter((argument) => !(argument in CONTAINER_READ_BACK) && !(argument in NOT_FORCE_NEW))
        .map((argument) => `${key}.${argument}`),
    );
    expect(undecided).toEqual([]);
  });

  it("ignores on every container each attribute the engine changes on its own", () => {
    for (const [key, body] of containers) {
      expect({ key, ignored: body.lifecycle?.ignore_changes }).toEqual({ key, ignored: ENGINE_CHANGED_ATTRIBUTES });
    }
  });

  it("leaves unset what the engine computes, and never sets a list the image would fill back in as empty", () => {
    for (const [key, body] of containers) {
      for (const [argument, entry] of Object.entries(CONTAINER_READ_BACK)) {
        if (entry.rule === "leave-unset") expect({ key, argument, value: body[argument] }).toEqual({ key, argument });
        if (Array.isArray(body[argument]))
          expect({ key, argument, empty: body[argument].length === 0 }).toEqual({ key, argument, empty: false });
      }
    }
  });

  it("replaces a namespace whose declared ports change, through a trigger over exactly those ports", () => {
    const triggers = cluster.resource.terraform_data ?? {};
    const namespaces = containers.filter(([, body]) => !String(body.network_mode).startsWith("container:"));
    expect(namespaces.length).toBe(lab.nodes.length);
    for (const [key, body] of namespaces) {
      const [trigger] = body.lifecycle.replace_triggered_by.map(
        (ref: string) => /^terraform_data\.(.+)$/.exec(ref)![1],
      );
      const declared =
        (body.ports ?? []).map((p: any) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`).join(", ") || "none";
      expect({ key, ports: triggers[trigger].triggers_replace.ports }).toEqual({ key, ports: declared });
    }
  });

  it("writes every duration a provider reads back in Go's printed form, so it reads back unchanged", () => {
    const durations: [string, string][] = [];
    for (const [key, body] of containers)
      for (const field of ["interval", "timeout", "start_period"])
        if (body.healthcheck?.[field]) durations.push([`${key}.healthcheck.${field}`, body.healthcheck[field]]);
    for (const [key, body] of Object.entries<any>(consul.resource.consul_autopilot_config ?? {}))
      for (const field of ["last_contact_threshold", "server_stabilization_time"])
        durations.push([`${key}.${field}`, body[field]]);
    expect(durations.length).toBeGreaterThan(0);
    expect(durations.filter(([, text]) => !isGoCanonical(text))).toEqual([]);
  });
});

describe("replace_triggered_by as Terraform reads it", () => {
  it("is accepted by terraform validate, in the form the stack writes it", () => {
    const { cluster } = synthesized(labOf());
    // The ports triggers alone: the stack's other terraform_data reference containers and run scripts.
    const triggers = Object.fromEntries(
      Object.entries<any>(cluster.resource.terraform_data).filter(([key]) => key.includes("published-ports")),
    );
    // Every namespace's lifecycle, on a probe next to the stack's own triggers: terraform_data needs no provider.
    const probes = Object.fromEntries(
      Object.entries<any>(cluster.resource.docker_container)
        .filter(([, body]) => body.lifecycle?.replace_triggered_by)
        .map(([key, body]) => [
          `probe_${key}`,
          { input: "x", lifecycle: { replace_triggered_by: body.lifecycle.replace_triggered_by } },
        ]),
    );
    const dir = mkdtempSync(join(tmpdir(), "consul-lab-validate-"));
    writeFileSync(
      join(dir, "main.tf.json"),
      JSON.stringify({ resource: { terraform_data: { ...triggers, ...probes } } }),
    );
    // Only the triggers and probes: the stack's provisioners run scripts that are not there.
    for (const body of Object.values<any>(triggers)) delete body.provisioner;
    writeFileSync(
      join(dir, "main.tf.json"),
      JSON.stringify({ resource: { terraform_data: { ...triggers, ...probes } } }),
    );
    const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
    const init = spawnSync("terraform", ["init", "-input=false", "-backend=false"], {
      cwd: dir,
      encoding: "utf8",
      env,
    });
    expect(init.status).toBe(0);
    const validate = spawnSync("terraform", ["validate", "-json"], { cwd: dir, encoding: "utf8", env });
    expect(JSON.parse(validate.stdout)).toMatchObject({ valid: true, error_count: 0 });
  });
});

describe("a change the engine cannot make", () => {
  it("still replaces the namespace: a new entry port changes its ports trigger", () => {
    const before = synthesized(labOf()).cluster.resource.terraform_data;
    const input = articleInput();
    input.publish = { entryPort: 9090 };
    const after = synthesized(labOf(input)).cluster.resource.terraform_data;
    const portsOf = (data: any) =>
      Object.entries<any>(data)
        .filter(([key]) => key.includes("published-ports"))
        .map(([, body]) => body.triggers_replace.ports);
    expect(portsOf(before)).not.toEqual(portsOf(after));
    expect(portsOf(after).join()).toContain("127.0.0.1:9090->80/tcp");
  });
});
