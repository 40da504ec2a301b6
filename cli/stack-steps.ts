/** The steps several commands share: synthesizing, Terraform per stack, the doctor, the published ports. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerCli } from "../runtime/docker-cli";
import { labApi } from "../runtime/lab-api";
import { CliError, passThrough, PROJECT_ROOT } from "../runtime/process";
import { reachPublishedPorts } from "../runtime/published-ports";
import type { Lab } from "../topology";
import type { RunContext } from "./context";
import { labSecrets, writeSecretVariables } from "./deploy-secrets";
import { formatCheck, routeTableOf, runDoctor } from "./doctor";
import { readStacks, type SynthesizedStack } from "./manifest";
import type { StackJson } from "./rolling-servers";
import { StackTerraform } from "./terraform";

export const OUTDIR = join(PROJECT_ROOT, "cdktf.out");
export const OUTPUTS_FILE = join(PROJECT_ROOT, "outputs.json");

/**
 * Runs the app (main.ts) into cdktf.out, as `cdktf synth` would (the app never sees a secret, nor a TF_VAR_* the
 * user's shell may hold), and reports the stacks' warnings and errors as the CLI does.
 */
export async function synth(env: NodeJS.ProcessEnv): Promise<SynthesizedStack[]> {
  const appEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("TF_VAR_")));
  const status = await passThrough(
    process.execPath,
    [join(PROJECT_ROOT, "scripts", "run-ts.mjs"), join(PROJECT_ROOT, "main.ts")],
    { cwd: PROJECT_ROOT, env: { ...appEnv, CDKTF_OUTDIR: OUTDIR } },
  );
  if (status !== 0) throw new CliError(`synth failed (exit ${status}); see above`);
  const stacks = readStacks(OUTDIR);
  let errors = 0;
  for (const stack of stacks) {
    for (const annotation of stack.annotations) {
      const level = annotation.level.replace("@cdktf/", "");
      if (level === "error") errors++;
      if (level === "error" || level === "warn") console.error(`[${level}] ${stack.name}: ${annotation.message}`);
    }
  }
  if (errors > 0) throw new CliError(`synth reported ${errors} error(s); see above`);
  return stacks;
}

/** Synthesizes, then writes each stack's secret variables for Terraform; `createSecrets` on a first deploy. */
export async function synthWithSecrets(ctx: RunContext, createSecrets: boolean): Promise<SynthesizedStack[]> {
  const secrets = labSecrets(ctx.lab, ctx.env, createSecrets, ctx.say);
  const stacks = await synth(ctx.env);
  writeSecretVariables(ctx.lab, secrets, stacks);
  return stacks;
}

export function terraformFor(ctx: RunContext, stack: SynthesizedStack): StackTerraform {
  ctx.interruption.terraformRan = true;
  return new StackTerraform(stack, { env: ctx.env, color: Boolean(process.stdout.isTTY) });
}

/** A synthesized stack's JSON. */
export function stackJson(stack: SynthesizedStack): StackJson {
  return JSON.parse(readFileSync(join(stack.workingDirectory, "cdk.tf.json"), "utf8"));
}

/** Runs the doctor's checks and prints one line each; whether the host is ready. */
export async function doctorPasses({ lab, env }: RunContext): Promise<boolean> {
  const results = await runDoctor({ lab, env, docker: new DockerCli(env), routeTable: routeTableOf(env) });
  for (const result of results) console.log(formatCheck(result));
  const problems = results.filter((result) => !result.ok).length;
  console.log(problems === 0 ? "doctor: the host is ready" : `doctor: ${problems} problem(s); fix them and run again`);
  return problems === 0;
}

/** Whether the Consul API the `consul` stack configures answers, for a clear word instead of a provider trace. */
export async function consulAnswers(lab: Lab, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const answer = await labApi(lab, env).request("GET", "/v1/status/leader", { anonymous: true });
    return answer.status === 200 ? undefined : `HTTP ${answer.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Runs a command with the lab's published ports reachable here: through SSH forwards when the publish node's engine is
 * remote (runtime/published-ports.ts), closed again however the command ends.
 */
export async function withPublishedPorts<T>(ctx: RunContext, run: () => Promise<T>): Promise<T> {
  const ports = await reachPublishedPorts(ctx.lab, ctx.env);
  if (ports.forwardedFrom)
    ctx.say(`reaching the lab's published ports through ssh forwards from ${ports.forwardedFrom}`);
  try {
    return await run();
  } finally {
    await ports.close();
  }
}
