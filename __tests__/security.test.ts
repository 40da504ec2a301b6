import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecrets, ensureLabTls, roleTokenSecrets, secretVariableValues } from "../secrets";
import { articleInput, labOf } from "./tools/helpers";
import { runApp } from "./tools/synth";

const dir = mkdtempSync(join(tmpdir(), "consul-lab-security-"));

describe("secrets in the synthesized output", () => {
  // Real secrets, present in the environment exactly as `npm run deploy` passes them to cdktf.
  const secrets = createSecrets(join(dir, "consul-lab.json"));
  const roleTokens = roleTokenSecrets(labOf(), secrets);
  const tls = ensureLabTls(labOf(), join(dir, "tls"));
  const tlsVariables = secretVariableValues(labOf(), secrets, tls);
  const run = runApp({
    TF_VAR_gossip_key: secrets.gossipKey,
    TF_VAR_management_token: secrets.managementToken,
    TF_VAR_role_tokens: JSON.stringify(roleTokens),
    TF_VAR_tls_ca_cert: tls.caCert,
    TF_VAR_tls_server_certs: JSON.stringify(tlsVariables.tls_server_certs),
    TF_VAR_tls_server_keys: JSON.stringify(tlsVariables.tls_server_keys),
    CONSUL_LAB_SECRETS_FILE: join(dir, "consul-lab.json"),
  });
  const everything = Object.values(run.files).join("\n");
  const cluster = JSON.parse(run.files["stacks/cluster/cdk.tf.json"]);
  const consul = JSON.parse(run.files["stacks/consul/cdk.tf.json"]);

  it("holds no secret value anywhere", () => {
    expect(run.status).toBe(0);
    // Everything synth writes is searched: the stacks, the files beside them, and the rendered files (rendered/).
    expect(Object.keys(run.files).filter((path) => path.startsWith("rendered/")).length).toBeGreaterThan(30);
    const values = [secrets.gossipKey, secrets.managementToken, secrets.roleTokenSeed, ...Object.values(roleTokens)];
    expect(values.filter((value) => everything.includes(value))).toEqual([]);
  });

  it("holds no certificate or key: no PEM block, no line of the lab's CA, key or server certificates", () => {
    expect(run.status).toBe(0);
    expect(everything).not.toMatch(/-----BEGIN [A-Z ]+-----/);
    const caKey = readFileSync(join(dir, "tls", "ca-key.pem"), "utf8");
    const pemLines = [tls.caCert, caKey, ...Object.values(tls.servers).flatMap((pair) => [pair.cert, pair.key])]
      .flatMap((pem) => pem.split("\n"))
      .filter((line) => line.length >= 40 && !line.startsWith("-----"));
    expect(pemLines.length).toBeGreaterThan(20);
    expect(pemLines.filter((line) => everything.includes(line))).toEqual([]);
  });

  it("holds references to sensitive variables instead", () => {
    expect(cluster.variable).toEqual({
      gossip_key: expect.objectContaining({ type: "string", sensitive: true, nullable: false }),
      management_token: expect.objectContaining({ type: "string", sensitive: true, nullable: false }),
      role_tokens: expect.objectContaining({ type: "map(string)", sensitive: true, nullable: false }),
      // The CA's certificate is public; the servers' keys are not, and their certificates ride along with them.
      tls_ca_cert: expect.objectContaining({ type: "string", nullable: false }),
      tls_server_certs: expect.objectContaining({ type: "map(string)", sensitive: true, nullable: false }),
      tls_server_keys: expect.objectContaining({ type: "map(string)", sensitive: true, nullable: false }),
    });
    const agent = Object.values(cluster.resource.docker_container).find(
      (container: any) => container.name === "consul-lab-dev1001",
    ) as any;
    const secretsFile = agent.upload.find((upload: any) => upload.file === "/consul/config/secrets.json")
      .content as string;
    expect(secretsFile).toContain('"encrypt": "${var.gossip_key}"');
    expect(secretsFile).toContain('"initial_management": "${var.management_token}"');
    expect(secretsFile).toContain('"agent": "${var.role_tokens["node-dev1001"]}"');
    expect(agent.upload.find((upload: any) => upload.file === "/consul/config/agent.json").content).not.toContain(
      "${var.",
    );
  });

  it("gives consul-template and the watch handler their tokens as files, never through an environment", () => {
    const containers = Object.values(cluster.resource.docker_container) as any[];
    const byName = (name: string) => containers.find((container) => container.name === name);
    const upload = (container: string, file: string) =>
      byName(container).upload.find((candidate: any) => candidate.file === file);
    expect(upload("consul-lab-dev1002-load-balancer", "/etc/consul-template/consul-token")).toEqual({
      file: "/etc/consul-template/consul-token",
      content: '${var.role_tokens["consul-template"]}',
      permissions: "0400",
    });
    expect(upload("consul-lab-dev1002", "/consul/handlers/maintenance-flag.token")).toMatchObject({
      content: '${var.role_tokens["maintenance-watch"]}',
    });
    expect(byName("consul-lab-dev1002-load-balancer").env ?? []).toEqual([]);
    expect(byName("consul-lab-dev1002").env).toEqual([
      "MAINTENANCE_FLAG_LOG=/consul/data/maintenance-flag.log",
      "MAINTENANCE_FLAG_TOKEN_FILE=/consul/handlers/maintenance-flag.token",
    ]);
    // No container's environment carries a variable, so none carries a secret.
    for (const container of containers) expect((container.env ?? []).join("\n")).not.toContain("${var.");
  });

  it("gives the Consul stack's provider its own token, not the management token", () => {
    expect(consul.provider.consul[0].token).toBe("${var.role_tokens.terraform}");
    expect(consul.variable).toEqual({
      role_tokens: expect.objectContaining({ sensitive: true }),
      tls_ca_cert: expect.objectContaining({ type: "string" }),
    });
    expect(consul.provider.consul[0]).toMatchObject({ scheme: "https", ca_pem: "${var.tls_ca_cert}" });
    expect(run.files["stacks/consul/cdk.tf.json"]).not.toContain("management_token");
  });

  it("puts no variable, and so no secret, into any output", () => {
    const outputs = Object.entries({ ...cluster.output, ...consul.output }) as [string, any][];
    expect(outputs.map(([name]) => name).sort()).toEqual(["consul_dns", "consul_ui_url", "entry_url", "nodes"]);
    expect(outputs.filter(([, output]) => JSON.stringify(output.value).includes("var.")).map(([name]) => name)).toEqual(
      [],
    );
  });

  it("publishes nothing beyond 127.0.0.1", () => {
    const ports = (Object.values(cluster.resource.docker_container) as any[]).flatMap(
      (container) => container.ports ?? [],
    );
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.every((port) => port.ip === "127.0.0.1")).toBe(true);
  });

  it("keeps script checks local-only", () => {
    expect(everything).toContain('\\"enable_local_script_checks\\": true');
    expect(everything).not.toContain("enable_script_checks");
  });
});

describe('security "none"', () => {
  const input = articleInput();
  input.security = "none";
  const file = join(dir, "open.json");
  writeFileSync(file, JSON.stringify(input));
  const run = runApp({ CONSUL_LAB_TOPOLOGY: file });

  it("is the article's open Consul: no variables, no encryption, no ACLs", () => {
    expect(run.status).toBe(0);
    const cluster = JSON.parse(run.files["stacks/cluster/cdk.tf.json"]);
    expect(cluster.variable).toBeUndefined();
    expect(run.files["stacks/cluster/cdk.tf.json"]).not.toMatch(/encrypt|\\"acl\\"|acl-bootstrap/);
    // No ACL bootstrap: the deploy-time steps left are the image builds and the wait for a leader.
    const deployTimeSteps = Object.entries<any>(cluster.resource.terraform_data)
      .filter(([, body]) => body.provisioner)
      .map(([id]) => id.replace(/_[0-9A-F]{8}$/, ""));
    expect(deployTimeSteps.sort()).toEqual([
      "cluster_dnsmasq-image_build",
      "cluster_leader_wait",
      "cluster_load-balancer-image_build",
    ]);
    // Nor any link to secret variables.
    expect(Object.keys(run.files).filter((path) => path.includes("secrets"))).toEqual([]);
  });

  it("is warned about at synth", () => {
    const manifest = JSON.parse(run.files["manifest.json"]);
    expect(manifest.stacks.cluster.annotations).toEqual([
      expect.objectContaining({
        level: "@cdktf/warn",
        message: expect.stringContaining('security is "none": gossip is unencrypted and ACLs are off'),
      }),
    ]);
  });
});
