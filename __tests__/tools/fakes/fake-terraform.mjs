// A stand-in for the Terraform CLI, speaking its argv and JSON formats: it records every call (record.mjs), plans
// the difference between a stack's cdk.tf.json and its local state, "applies" by writing that state, and fails on
// cue (FAKE_FAIL=terraform:apply:cluster). Enough of Terraform for the lab's CLI contract, nothing more.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { failsOnCue, record } from "./record.mjs";

record("terraform");
const [command, ...args] = process.argv.slice(2);
const stack = basename(process.cwd());
const configFile = join(process.cwd(), "cdk.tf.json");
const config = () => JSON.parse(readFileSync(configFile, "utf8"));

function statePath() {
  const path = config().terraform?.backend?.local?.path ?? "terraform.tfstate";
  return join(process.cwd(), path);
}
function addresses(resources) {
  return Object.entries(resources ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `${type}.${name}`),
  );
}
function stateAddresses() {
  if (!existsSync(statePath())) return [];
  return JSON.parse(readFileSync(statePath(), "utf8")).resources.map((resource) => `${resource.type}.${resource.name}`);
}
function writeState(list) {
  mkdirSync(dirname(statePath()), { recursive: true });
  const resources = list.map((address) => {
    const [type, name] = address.split(".");
    return { mode: "managed", type, name, instances: [{}] };
  });
  // Like a real state, it holds the values of sensitive attributes (uploads, environments) in clear.
  const variables = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("TF_VAR_")));
  writeFileSync(statePath(), JSON.stringify({ version: 4, resources, sensitive_values_in_clear: variables }));
}
function fail(message) {
  console.error(`\nError: ${message}\n`);
  process.exit(1);
}

if (command === "version" || command === "-v" || command === "--version") {
  const version = process.env.FAKE_TERRAFORM_VERSION ?? "1.11.4";
  if (args.includes("-json"))
    console.log(
      JSON.stringify({
        terraform_version: version,
        platform: "linux_amd64",
        provider_selections: {},
        terraform_outdated: false,
      }),
    );
  else console.log(`Terraform v${version}\non linux_amd64`);
  process.exit(0);
}
if (!existsSync(configFile)) fail(`no cdk.tf.json in ${process.cwd()}`);
if (failsOnCue("terraform", command, stack)) fail(`${command} failed on cue in stack ${stack}`);

switch (command) {
  case "init":
    console.log("Terraform has been successfully initialized!");
    break;
  case "providers":
    // `cdktf diff` locks providers for the host's platform after init.
    break;
  case "plan": {
    const out =
      args.find((arg) => arg.startsWith("-out="))?.slice(5) ??
      (args.includes("-out") ? args[args.indexOf("-out") + 1] : undefined);
    const wanted = args.includes("-destroy") ? [] : addresses(config().resource);
    const have = stateAddresses();
    const changes = [
      ...wanted
        .filter((address) => !have.includes(address))
        .map((address) => ({ address, change: { actions: ["create"] } })),
      ...have
        .filter((address) => !wanted.includes(address))
        .map((address) => ({ address, change: { actions: ["delete"] } })),
      ...wanted
        .filter((address) => have.includes(address))
        .map((address) => ({ address, change: { actions: ["no-op"] } })),
    ];
    const add = changes.filter((c) => c.change.actions[0] === "create").length;
    const destroy = changes.filter((c) => c.change.actions[0] === "delete").length;
    // Like a real plan file, it holds every variable's value in clear.
    const variables = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("TF_VAR_")));
    if (out)
      writeFileSync(
        resolve(out),
        JSON.stringify({ format_version: "1.2", resource_changes: changes, planned: wanted, variables }),
      );
    console.log(`Plan: ${add} to add, 0 to change, ${destroy} to destroy.`);
    break;
  }
  case "show": {
    const file = args.find((arg) => !arg.startsWith("-"));
    const plan = JSON.parse(readFileSync(resolve(file), "utf8"));
    console.log(JSON.stringify({ format_version: plan.format_version, resource_changes: plan.resource_changes }));
    break;
  }
  case "apply": {
    const file = args.find((arg) => !arg.startsWith("-"));
    if (!file) fail("the lab applies saved plans only");
    if ((process.env.FAKE_SLOW ?? "").split(",").includes(`apply:${stack}`)) {
      // A long apply, as a real one is: it stops like Terraform on SIGINT or SIGTERM, and says which it got.
      console.log("Still creating... [10s elapsed]");
      await new Promise((resolveWait) => {
        const stop = (signal) => {
          appendFileSync(
            process.env.FAKE_LOG,
            `${JSON.stringify({ program: "terraform", argv: ["<signal>", signal], cwd: process.cwd(), tfVars: [] })}\n`,
          );
          console.error(`Interrupt received (${signal}). Gracefully shutting down...`);
          process.exit(1);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        setTimeout(resolveWait, 20000);
      });
    }
    writeState(JSON.parse(readFileSync(resolve(file), "utf8")).planned);
    console.log("Apply complete!");
    break;
  }
  case "output": {
    const outputs = Object.fromEntries(
      Object.entries(config().output ?? {}).map(([name, output]) => [
        name,
        { sensitive: false, type: "string", value: output.value },
      ]),
    );
    console.log(JSON.stringify(outputs));
    break;
  }
  default:
    fail(`the fake does not know \`terraform ${command}\``);
}
