/**
 * `cdktf.out/rendered/<node>/<path>`: every file the cluster stack uploads, as the plain file it becomes on its node
 * (stacks/rendered-files.ts), from the app's own run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asTerraformReadsIt } from "../constructs/terraform-literal";
import { writeRenderedFiles } from "../stacks/rendered-files";
import { nginxTest } from "./tools/nginx";
import { sharedDefaultRun } from "./tools/synth";

const run = sharedDefaultRun();
const cluster = JSON.parse(run.files["stacks/cluster/cdk.tf.json"]);
const rendered = Object.keys(run.files).filter((path) => path.startsWith("rendered/"));

describe("the rendered files beside the stacks", () => {
  it("hold every upload of every container, under its node, as Terraform will write it", () => {
    const expected: Record<string, string> = {};
    for (const container of Object.values<any>(cluster.resource.docker_container)) {
      const node = container.labels.find((label: any) => label.label === "consul-lab.node").value;
      for (const upload of container.upload ?? [])
        expected[`rendered/${node}${upload.file}`] = asTerraformReadsIt(upload.content);
    }
    expect(Object.keys(expected).length).toBeGreaterThan(30);
    expect(Object.fromEntries(rendered.map((path) => [path, run.files[path]]))).toEqual(expected);
  });

  it("are the files themselves: the watch handler byte for byte, the nginx configurations as nginx reads them", () => {
    const handler = readFileSync(join(__dirname, "..", "assets", "handlers", "maintenance-flag.sh"), "utf8");
    expect(run.files["rendered/dev1002/consul/handlers/maintenance-flag.sh"]).toBe(handler);
    expect(handler).toContain("${");
    expect(nginxTest(run.files["rendered/dev1002/etc/nginx/conf.d/consul-ui.conf"]).output).toContain(
      "test is successful",
    );
    expect(JSON.parse(run.files["rendered/dev1004/consul/config/agent.json"]).node_name).toBe("dev1004");
  });

  it("are written afresh: a node no longer in the topology leaves no file behind", () => {
    const outdir = mkdtempSync(join(tmpdir(), "consul-lab-rendered-"));
    mkdirSync(join(outdir, "stacks", "cluster"), { recursive: true });
    writeFileSync(join(outdir, "stacks", "cluster", "cdk.tf.json"), run.files["stacks/cluster/cdk.tf.json"]);
    mkdirSync(join(outdir, "rendered", "dev9999", "etc"), { recursive: true });
    writeFileSync(join(outdir, "rendered", "dev9999", "etc", "x"), "stale");
    writeRenderedFiles(outdir);
    expect(existsSync(join(outdir, "rendered", "dev9999"))).toBe(false);
    expect(existsSync(join(outdir, "rendered", "dev1004", "consul", "config", "agent.json"))).toBe(true);
  });

  it("hold a secret only as the stack's reference to its variable", () => {
    expect(run.files["rendered/dev1001/consul/tls/server-key.pem"]).toBe("${var.tls_server_keys.dev1001}");
    expect(rendered.filter((path) => /-----BEGIN/.test(run.files[path]))).toEqual([]);
  });
});
