/**
 * The app as the cdktf CLI runs it (cdktf.json's `app`), so `npx cdktf deploy cluster consul` and `npx cdktf diff
 * cluster` work from a checkout as cdktf's documentation shows them: main.ts's synth, then each stack's secret
 * variables file written from the secrets file (secrets/stack-variables.ts), which Terraform reads through the link
 * synth put in the stack's directory. Without a secrets file it says how to create one; nothing secret is written
 * into cdktf.out.
 */
import { resolve } from "node:path";
import { SecretsError } from "../secrets";
import { synthesizeLab } from "../stacks/lab-app";
import { readStacks } from "./manifest";
import { protectState } from "../runtime/process";
import { labSecrets, writeSecretVariables } from "./deploy-secrets";
import { variablesOverridingHosts } from "../shared/docker-hosts";
import { environmentEntryOf, redirectingVariables } from "../shared/terraform-environment";

const synthesized = synthesizeLab();
const overriding = synthesized ? variablesOverridingHosts(synthesized.lab, process.env) : [];
if (overriding.length > 0) {
  // Terraform runs next with this environment, and would send every host's resources to the wrong engine.
  console.error(
    `consul-lab: ${overriding.join(" and ")} ${overriding.length > 1 ? "are" : "is"} set, and the Docker provider would take ${overriding.length > 1 ? "them" : "it"} over each host's own endpoint; unset ${overriding.length > 1 ? "them" : "it"}, or run \`npm run cdktf -- ...\`, which leaves ${overriding.length > 1 ? "them" : "it"} out`,
  );
  process.exit(1);
}
const redirecting = redirectingVariables(process.env);
if (redirecting.length > 0) {
  // The cdktf CLI runs Terraform next with this environment; `npm run cdktf` removes them first.
  console.error(
    "consul-lab: the environment holds variables Terraform or a provider would take over the lab's own settings:",
  );
  for (const name of redirecting) {
    const entry = environmentEntryOf(name)!;
    console.error(`  ${name}: ${entry.readBy}, ${entry.effect}`);
  }
  console.error("consul-lab: unset them, or run `npm run cdktf -- ...`, which leaves them out");
  process.exit(1);
}
// The cdktf CLI runs Terraform next, with the user's umask: state/ is made owner-only before it writes secrets there.
if (synthesized) protectState();
if (synthesized?.lab.secure) {
  const { lab, outdir } = synthesized;
  try {
    writeSecretVariables(
      lab,
      labSecrets(lab, process.env, false, () => {}),
      readStacks(resolve(outdir)),
    );
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    // A synth alone needs no secrets; a deploy or a diff would fail reading the variables file, so say why now.
    console.error(`consul-lab: ${error.message}; \`cdktf deploy\` and \`cdktf diff\` read the secrets from it`);
  }
}
