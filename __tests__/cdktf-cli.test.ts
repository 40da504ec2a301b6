/**
 * The mission's own commands, as cdktf's documentation shows them, run from a checkout with npx and the recording
 * fakes of terraform and docker: `npx cdktf diff cluster` and `npx cdktf deploy cluster consul`, with no npm script
 * around them. The app cdktf runs (cli/cdktf-app.ts) writes each stack's secret variables, which Terraform loads
 * through the link in the stack's directory; the cluster stack builds its images itself (scripts/deploy-time).
 */
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { articleInput, CLUSTER_STACK_VARIABLES, CONSUL_STACK_VARIABLES } from "./tools/helpers";
import { filesIn } from "./tools/synth";
import { LabCheckout } from "./tools/lab-checkout";
import { freeLoopbackPort } from "./tools/ports";

jest.setTimeout(120_000);

async function checkoutWithLab(change: (input: ReturnType<typeof articleInput>) => void = () => {}) {
  const checkout = new LabCheckout();
  const input = articleInput();
  input.publish = {
    httpPort: await freeLoopbackPort(),
    dnsPort: await freeLoopbackPort(),
    entryPort: await freeLoopbackPort(),
  };
  change(input);
  const topologyFile = join(checkout.root, "lab.json");
  writeFileSync(topologyFile, JSON.stringify(input));
  // CI: the cdktf CLI prints plain lines instead of redrawing a terminal.
  return { checkout, input, topologyFile, env: { CONSUL_LAB_TOPOLOGY: topologyFile, CI: "1" } };
}

const plans = (checkout: LabCheckout) => checkout.calls("terraform").filter((call) => call.argv[0] === "plan");
const applies = (checkout: LabCheckout) => checkout.calls("terraform").filter((call) => call.argv[0] === "apply");
const stackOf = (call: { cwd: string }) => call.cwd.split("/").pop();

describe("npx cdktf, as its documentation shows it, from a checkout", () => {
  it("diff cluster plans with the stack's own variables file, without a prompt, and keeps its plan out of cdktf.out", async () => {
    const { checkout, env } = await checkoutWithLab();
    expect((await checkout.script("secrets", [], env)).status).toBe(0);
    const result = await checkout.npx(["cdktf", "diff", "cluster"], env);
    expect(result.status).toBe(0);
    expect(plans(checkout).map(stackOf)).toEqual(["cluster"]);
    expect(plans(checkout)[0]).toMatchObject({
      tfVars: [],
      fileVars: CLUSTER_STACK_VARIABLES,
    });
    // cdktf saved its plan, with every secret, through the `plan` link: into the owner-only directory.
    expect(lstatSync(join(checkout.root, "cdktf.out/stacks/cluster/plan")).isSymbolicLink()).toBe(true);
    expect(statSync(join(checkout.root, ".secrets/terraform/cluster.tfplan")).isFile()).toBe(true);
    const secrets = JSON.parse(checkout.file(".secrets/consul-lab.json"));
    for (const [file, text] of Object.entries(filesIn(join(checkout.root, "cdktf.out"))))
      expect({ file, leaks: text.includes(secrets.managementToken) || text.includes(secrets.gossipKey) }).toEqual({
        file,
        leaks: false,
      });
  });

  it("deploy cluster consul applies both stacks in order with their secrets", async () => {
    const { checkout, env } = await checkoutWithLab();
    expect((await checkout.script("secrets", [], env)).status).toBe(0);
    const result = await checkout.npx(["cdktf", "deploy", "cluster", "consul", "--auto-approve"], env);
    expect(result.status).toBe(0);
    expect(applies(checkout).map(stackOf)).toEqual(["cluster", "consul"]);
    expect(applies(checkout).map((call) => call.fileVars)).toEqual([CLUSTER_STACK_VARIABLES, CONSUL_STACK_VARIABLES]);
    expect(existsSync(join(checkout.root, "state/cluster.tfstate"))).toBe(true);
    // Terraform wrote every secret there in clear, with npx's umask: the app made state/ owner-only first.
    expect(statSync(join(checkout.root, "state")).mode & 0o777).toBe(0o700);
    // The cluster stack builds its images before Terraform needs them, as npm run deploy does.
    const cluster = JSON.parse(checkout.file("cdktf.out/stacks/cluster/cdk.tf.json"));
    for (const image of Object.values<any>(cluster.resource.docker_image).filter((body) => !body.keep_locally))
      expect(image.depends_on).toEqual([expect.stringMatching(/^terraform_data\..*_build_[0-9A-F]{8}$/)]);
  });

  it("reads the variables as they are for the topology of this synth, after a node is added", async () => {
    const { checkout, env } = await checkoutWithLab((input) => {
      input.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
      input.services[2].nodes.push("dev1007");
    });
    expect((await checkout.script("secrets", [], env)).status).toBe(0);
    expect((await checkout.npx(["cdktf", "diff", "cluster"], env)).status).toBe(0);
    const variables = JSON.parse(
      readFileSync(join(checkout.root, ".secrets/terraform/cluster.auto.tfvars.json"), "utf8"),
    );
    expect(Object.keys(variables.role_tokens)).toContain("node-dev1007");
    expect(statSync(join(checkout.root, ".secrets/terraform/cluster.auto.tfvars.json")).mode & 0o777).toBe(0o600);
  });

  it("without a secrets file, stops before any change and names the one command to run", async () => {
    const { checkout, env } = await checkoutWithLab();
    const result = await checkout.npx(["cdktf", "diff", "cluster"], env);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain("run `npm run secrets` to create it");
    expect(applies(checkout)).toEqual([]);
  });
});
