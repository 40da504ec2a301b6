import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terraformLiteral } from "../constructs";
import {
  loadBalancerJob,
  renderAclPlan,
  renderAgentConfigFiles,
  renderConsulTemplateConfigJson,
  renderConsulUiVhost,
  renderDnsmasqConf,
  renderEntryPointConf,
  renderUpstreamTemplate,
  renderWorkloadSite,
} from "../renderers";
import { labOf, TEST_AGENT_SECRETS } from "./tools/helpers";

const ROOT = join(__dirname, "..");

/**
 * Asks the real Terraform what it makes of strings written into a JSON configuration, the way cdktf writes upload
 * contents: as locals, read back through `terraform console` (base64, so nothing is lost to quoting).
 */
function asTerraformEvaluates(values: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-terraform-"));
  const locals = Object.fromEntries(values.map((value, index) => [`v${index}`, value]));
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ locals }));
  // Piped, the console prints only its last result: one expression, base64 values joined by commas.
  const expression = `join(",", [${values.map((_, index) => `base64encode(local.v${index})`).join(", ")}])`;
  const result = spawnSync("terraform", ["console"], { cwd: dir, input: `${expression}\n`, encoding: "utf8" });
  if (result.error) throw new Error(`cannot run terraform: ${result.error.message}`);
  expect(result.status).toBe(0);
  const printed = /^"([A-Za-z0-9+/=,]*)"$/m.exec(result.stdout);
  expect(printed).not.toBeNull();
  const outputs = printed![1].split(",");
  expect(outputs).toHaveLength(values.length);
  return outputs.map((encoded) => Buffer.from(encoded, "base64").toString("utf8"));
}

describe("uploaded files, as Terraform reads them", () => {
  const lab = labOf();
  const originals: Record<string, string> = {
    "maintenance-flag.sh": readFileSync(join(ROOT, "assets", "handlers", "maintenance-flag.sh"), "utf8"),
    "agent.json": renderAgentConfigFiles(lab, "dev1002", TEST_AGENT_SECRETS)["/consul/config/agent.json"],
    "site.conf.ctmpl": renderUpstreamTemplate(lab),
    "consul-template.json": renderConsulTemplateConfigJson(lab, loadBalancerJob()),
    "consul-ui.conf": renderConsulUiVhost(lab),
    "entry.conf": renderEntryPointConf(lab),
    "app.conf": renderWorkloadSite(lab, "dev1004")!.nginxConf,
    "index.html": renderWorkloadSite(lab, "dev1006")!.indexHtml,
    "dnsmasq.conf": renderDnsmasqConf(lab),
    "acl-plan.json": JSON.stringify(renderAclPlan(lab)),
    "edge cases": 'a ${shell} %{directive} $${already} %%{also} "quoted" back\\slash \\n tab\t end',
  };

  it("arrive byte for byte as rendered", () => {
    const names = Object.keys(originals);
    const evaluated = asTerraformEvaluates(names.map((name) => terraformLiteral(originals[name])));
    const differing = names.filter((name, index) => evaluated[index] !== originals[name]);
    expect(differing).toEqual([]);
  });
});
