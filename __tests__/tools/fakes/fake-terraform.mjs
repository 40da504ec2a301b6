// A stand-in for the Terraform CLI, speaking its argv and JSON formats: it records every call (record.mjs), plans
// the difference between a stack's cdk.tf.json and its local state, "applies" by writing that state, and fails on
// cue (FAKE_FAIL=terraform:apply:cluster). Enough of Terraform for the lab's CLI contract, nothing more.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Answer, autoVariables, failsOnCue, record } from "./record.mjs";

function addresses(resources) {
  return Object.entries(resources ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `${type}.${name}`),
  );
}

/**
 * Every variable's value as Terraform would see it: from TF_VAR_* and from the directory's variables files (which
 * win). Like a real plan or state, what the fake writes holds them in clear.
 */
const variablesOf = (env, cwd) => ({
  ...Object.fromEntries(
    Object.entries(env)
      .filter(([name]) => name.startsWith("TF_VAR_"))
      .map(([name, value]) => [name.slice("TF_VAR_".length), value]),
  ),
  ...autoVariables(cwd),
});

/** @param {import("./record.mjs").FakeCall} call @returns {import("./record.mjs").FakeAnswer} */
export function terraform(call) {
  record(call);
  const { cwd, env } = call;
  const [command, ...args] = call.argv;
  const answer = new Answer();
  const stack = basename(cwd);
  const configFile = join(cwd, "cdk.tf.json");
  const config = () => JSON.parse(readFileSync(configFile, "utf8"));
  const statePath = () => join(cwd, config().terraform?.backend?.local?.path ?? "terraform.tfstate");
  const stateAddresses = () =>
    existsSync(statePath())
      ? JSON.parse(readFileSync(statePath(), "utf8")).resources.map((resource) => `${resource.type}.${resource.name}`)
      : [];
  const fail = (message) => {
    answer.err(`\nError: ${message}\n`);
    return answer.exit(1);
  };
  const inCwd = (path) => resolve(cwd, path);
  // Files are created as the client's umask says, as a real Terraform started by the CLI would create them.
  const fileMode = { mode: 0o666 & ~call.umask };

  if (command === "<signal>") {
    // The client got a signal while a long command ran: it stops like Terraform, and says which signal it got.
    answer.err(`Interrupt received (${args[0]}). Gracefully shutting down...`);
    return answer.exit(1);
  }
  if (command === "version" || command === "-v" || command === "--version") {
    const version = env.FAKE_TERRAFORM_VERSION ?? "1.11.4";
    if (args.includes("-json"))
      answer.out(
        JSON.stringify({
          terraform_version: version,
          platform: "linux_amd64",
          provider_selections: {},
          terraform_outdated: false,
        }),
      );
    else answer.out(`Terraform v${version}\non linux_amd64`);
    return answer.exit(0);
  }
  if (!existsSync(configFile)) return fail(`no cdk.tf.json in ${cwd}`);
  if (failsOnCue(call, command, stack)) return fail(`${command} failed on cue in stack ${stack}`);

  // A saved plan carries its variables; anything else that plans reads them.
  const appliesSavedPlan = command === "apply" && args.some((arg) => !arg.startsWith("-"));
  if (command === "plan" || (command === "apply" && !appliesSavedPlan)) {
    let variables;
    try {
      variables = variablesOf(env, cwd);
    } catch (error) {
      return fail(`Failed to read variables file\n\n${error.message}`);
    }
    // As Terraform run with -input=false (or without a terminal to prompt on): a declared variable without a value
    // and without a default stops the run.
    const missing = Object.entries(config().variable ?? {}).find(
      ([name, declaration]) => !(name in variables) && !("default" in declaration),
    );
    if (missing)
      return fail(
        `No value for required variable\n\nThe root module input variable "${missing[0]}" is not set, and has no default value.`,
      );
  }

  switch (command) {
    case "init":
      answer.out("Terraform has been successfully initialized!");
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
      // FAKE_REPLACE names a file of addresses whose next plan replaces them (as a ForceNew change would), until an
      // apply has replaced them. -target plans only the addresses named (the fake knows no dependencies).
      const replacing =
        env.FAKE_REPLACE && existsSync(env.FAKE_REPLACE)
          ? readFileSync(env.FAKE_REPLACE, "utf8").split("\n").filter(Boolean)
          : [];
      const targets = args.filter((arg) => arg.startsWith("-target=")).map((arg) => arg.slice("-target=".length));
      const inScope = (address) => targets.length === 0 || targets.includes(address);
      const changes = [
        ...wanted
          .filter((address) => !have.includes(address))
          .map((address) => ({ address, change: { actions: ["create"] } })),
        ...have
          .filter((address) => !wanted.includes(address))
          .map((address) => ({ address, change: { actions: ["delete"] } })),
        ...wanted
          .filter((address) => have.includes(address))
          .map((address) => ({
            address,
            change: { actions: replacing.includes(address) ? ["delete", "create"] : ["no-op"] },
          })),
      ].filter((change) => inScope(change.address));
      const planned =
        targets.length === 0
          ? wanted
          : [
              ...have.filter((address) => !inScope(address) || wanted.includes(address)),
              ...targets.filter((address) => wanted.includes(address) && !have.includes(address)),
            ];
      const add = changes.filter((c) => c.change.actions.includes("create")).length;
      const destroy = changes.filter((c) => c.change.actions.includes("delete")).length;
      if (out)
        writeFileSync(
          inCwd(out),
          JSON.stringify({
            format_version: "1.2",
            resource_changes: changes,
            planned,
            replaced: changes.filter((c) => c.change.actions.length === 2).map((c) => c.address),
            variables: variablesOf(env, cwd),
          }),
          fileMode,
        );
      answer.out(`Plan: ${add} to add, 0 to change, ${destroy} to destroy.`);
      break;
    }
    case "show": {
      const file = args.find((arg) => !arg.startsWith("-"));
      const plan = JSON.parse(readFileSync(inCwd(file), "utf8"));
      answer.out(JSON.stringify({ format_version: plan.format_version, resource_changes: plan.resource_changes }));
      break;
    }
    case "apply": {
      // A saved plan (as the lab's CLI applies), or a plan made on the spot (as `cdktf deploy --auto-approve`).
      const file = args.find((arg) => !arg.startsWith("-"));
      if (!file && !args.includes("-auto-approve"))
        return fail("an apply without a saved plan asks first; no terminal");
      // FAKE_SWARM_ATTACH_FAILURES names a file holding a count: while it is above 0, the cluster stack's apply fails
      // as the Docker provider does on a first attach to a swarm overlay, and the count goes down by one.
      const attachFailures = env.FAKE_SWARM_ATTACH_FAILURES;
      if (stack === "cluster" && attachFailures && Number(readFileSync(attachFailures, "utf8")) > 0) {
        writeFileSync(attachFailures, String(Number(readFileSync(attachFailures, "utf8")) - 1));
        return fail(
          "Unable to start container: Error response from daemon: attaching to network failed, make sure your network options are correct and check manager logs: context deadline exceeded",
        );
      }
      if ((env.FAKE_SLOW ?? "").split(",").includes(`apply:${stack}`)) {
        // A long apply, as a real one is: the client waits, and stops like Terraform on SIGINT or SIGTERM.
        answer.out("Still creating... [10s elapsed]");
        return answer.exit(0, { interruptible: true });
      }
      const savedPlan = file ? JSON.parse(readFileSync(inCwd(file), "utf8")) : undefined;
      if (savedPlan?.replaced?.length && env.FAKE_REPLACE)
        writeFileSync(
          env.FAKE_REPLACE,
          readFileSync(env.FAKE_REPLACE, "utf8")
            .split("\n")
            .filter((address) => address && !savedPlan.replaced.includes(address))
            .join("\n"),
        );
      const planned = savedPlan ? savedPlan.planned : args.includes("-destroy") ? [] : addresses(config().resource);
      const resources = planned.map((address) => {
        const [type, name] = address.split(".");
        return { mode: "managed", type, name, instances: [{}] };
      });
      mkdirSync(dirname(statePath()), { recursive: true, mode: 0o777 & ~call.umask });
      // As the local backend does: the state before this apply, secrets and all, kept as <state>.backup.
      if (existsSync(statePath())) writeFileSync(`${statePath()}.backup`, readFileSync(statePath()), fileMode);
      // Like a real state, it holds the values of sensitive attributes (uploads, environments) in clear.
      writeFileSync(
        statePath(),
        JSON.stringify({ version: 4, resources, sensitive_values_in_clear: variablesOf(env, cwd) }),
        fileMode,
      );
      answer.out("Apply complete!");
      break;
    }
    case "output": {
      const outputs = Object.fromEntries(
        Object.entries(config().output ?? {}).map(([name, output]) => [
          name,
          { sensitive: false, type: "string", value: output.value },
        ]),
      );
      answer.out(JSON.stringify(outputs));
      break;
    }
    default:
      return fail(`the fake does not know \`terraform ${command}\``);
  }
  return answer.exit(0);
}
