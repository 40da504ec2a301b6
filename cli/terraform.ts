/**
 * Terraform, run in each synthesized stack's directory: the same commands `cdktf deploy` runs, driven here so the
 * deploy can go stack by stack in dependency order, print a one-line summary per stack, and stop on the first failure.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { SynthesizedStack } from "./manifest";
import { PlanSummary, summarizePlan } from "./plan-summary";
import type { PlannedChange } from "./rolling-servers";
import { capture, CliError, passThrough, passThroughKeepingErrors } from "../runtime/process";

export interface TerraformOptions {
  /** The environment Terraform runs with: the user's (the secrets are in each stack's variables file). */
  readonly env: NodeJS.ProcessEnv;
  /** Whether output goes to a terminal; otherwise Terraform's colour codes are turned off. */
  readonly color: boolean;
}

/** The Terraform (or OpenTofu) binary: TERRAFORM_BINARY_NAME, as cdktf reads it, or `terraform`. */
export function terraformBinary(env: NodeJS.ProcessEnv): string {
  return env.TERRAFORM_BINARY_NAME || "terraform";
}

/**
 * What Docker says when a container's attach to a swarm overlay fails on a host that joined the swarm moments ago: the
 * first attach times out, and its address stays taken for a while (both seen on a real swarm). A later attempt
 * succeeds.
 */
export const SWARM_ATTACH_FAILURE =
  /attaching to network failed|could not allocate IP from IPAM: Address already in use/;

/**
 * Whether every error Terraform printed is a swarm attach failure: one `Error:` block per failed resource (boxed in
 * `│` when in colour), each of which must match, so an apply that also failed for another reason is never retried.
 */
export function onlySwarmAttachFailures(stderr: string): boolean {
  const blocks = stderr.split(/^[│╷╵\s]*Error: /m).slice(1);
  return blocks.length > 0 && blocks.every((block) => SWARM_ATTACH_FAILURE.test(block));
}

/** An apply that failed only on a swarm attach (SWARM_ATTACH_FAILURE): worth another plan and apply. */
export class SwarmAttachError extends CliError {
  constructor(
    readonly stack: string,
    readonly status: number,
  ) {
    super(
      `terraform apply of stack ${stack} failed (exit ${status}) on a container's attach to the swarm overlay; see above`,
    );
  }
}

/** Terraform in one stack's working directory: init, a saved plan, its apply, the outputs and the state. */
export class StackTerraform {
  /**
   * A saved plan holds every variable's value in clear, secrets included, so it never goes into cdktf.out: it lives
   * in a directory only this user can read (mkdtemp makes it 0700), removed by `cleanUp`.
   */
  private planDir?: string;
  /** The resource changes of the last plan (`terraform show -json`), for a caller that reads more than the counts. */
  plannedChanges: readonly PlannedChange[] = [];

  constructor(
    readonly stack: SynthesizedStack,
    private readonly options: TerraformOptions,
  ) {}

  private get planFile(): string {
    this.planDir ??= mkdtempSync(join(tmpdir(), "consul-lab-plan-"));
    return join(this.planDir, `${this.stack.name}.tfplan`);
  }

  /** Removes the saved plan. */
  cleanUp(): void {
    if (this.planDir) rmSync(this.planDir, { recursive: true, force: true });
    this.planDir = undefined;
  }

  private run(args: string[]): Promise<number> {
    return passThrough(terraformBinary(this.options.env), args, {
      cwd: this.stack.workingDirectory,
      env: this.options.env,
    });
  }

  private flags(): string[] {
    return ["-input=false", ...(this.options.color ? [] : ["-no-color"])];
  }

  private require(status: number, what: string): void {
    if (status !== 0)
      throw new CliError(`terraform ${what} of stack ${this.stack.name} failed (exit ${status}); see above`);
  }

  async init(): Promise<void> {
    this.require(await this.run(["init", ...this.flags()]), "init");
  }

  /**
   * Plans, saves the plan, prints Terraform's own account of it, and returns its counts; with `targets`, a plan of those
   * resources (and what they depend on) only.
   */
  async plan(destroy = false, targets: readonly string[] = []): Promise<PlanSummary> {
    const targeting = targets.map((address) => `-target=${address}`);
    this.require(
      await this.run([
        "plan",
        ...this.flags(),
        ...(destroy ? ["-destroy"] : []),
        ...targeting,
        `-out=${this.planFile}`,
      ]),
      "plan",
    );
    const shown = capture(terraformBinary(this.options.env), ["show", "-json", this.planFile], {
      cwd: this.stack.workingDirectory,
      env: this.options.env,
    });
    if (shown.status !== 0)
      throw new CliError(`terraform show of stack ${this.stack.name} failed: ${shown.stderr.trim()}`);
    const plan = JSON.parse(shown.stdout);
    this.plannedChanges = plan.resource_changes ?? [];
    return summarizePlan(plan);
  }

  /**
   * Applies the saved plan, exactly what was shown. A failure Docker's swarm is known to cure by itself (a container's
   * first attach to the overlay, see SWARM_ATTACH_FAILURE) is thrown as a SwarmAttachError, which the caller may retry.
   */
  async applyPlan(): Promise<void> {
    const { status, stderr } = await passThroughKeepingErrors(
      terraformBinary(this.options.env),
      ["apply", ...this.flags(), this.planFile],
      { cwd: this.stack.workingDirectory, env: this.options.env },
    );
    if (status !== 0 && onlySwarmAttachFailures(stderr)) throw new SwarmAttachError(this.stack.name, status);
    this.require(status, "apply");
  }

  /** init, a saved plan and nothing more, for review; returns the plan's counts. */
  async planOnly(): Promise<PlanSummary> {
    try {
      await this.init();
      return await this.plan();
    } finally {
      this.cleanUp();
    }
  }

  /**
   * init, a saved plan (of a destroy, with `destroy`; of `targets` only, when given), and the apply of exactly that
   * plan; returns its counts.
   */
  async planAndApply(destroy = false, targets: readonly string[] = []): Promise<PlanSummary> {
    try {
      await this.init();
      const summary = await this.plan(destroy, targets);
      await this.applyPlan();
      return summary;
    } finally {
      this.cleanUp();
    }
  }

  /** The stack's outputs, as `{name: value}`. */
  outputs(): Record<string, unknown> {
    const result = capture(terraformBinary(this.options.env), ["output", "-json"], {
      cwd: this.stack.workingDirectory,
      env: this.options.env,
    });
    if (result.status !== 0)
      throw new CliError(`terraform output of stack ${this.stack.name} failed: ${result.stderr.trim()}`);
    const outputs = JSON.parse(result.stdout || "{}") as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
  }

  /** Renames the stack's state file out of the way (`<file>.set-aside`); returns the new name. */
  setStateAside(): string {
    const file = stateFileOf(this.stack)!;
    const aside = `${file}.set-aside`;
    renameSync(file, aside);
    return aside;
  }

  /** Removes the local backend's `<state>.backup` (the state before the last apply, secrets in clear), if any. */
  removeStateBackup(): void {
    const file = stateFileOf(this.stack);
    if (file) rmSync(`${file}.backup`, { force: true });
  }

  /** How many resources the stack's state holds: 0 when it was never deployed or has been destroyed. */
  deployedResourceCount(): number {
    const file = stateFileOf(this.stack);
    if (!file || !existsSync(file)) return 0;
    const state = JSON.parse(readFileSync(file, "utf8")) as { resources?: { mode?: string }[] };
    return (state.resources ?? []).filter((resource) => resource.mode !== "data").length;
  }
}

/** The local backend's state file of a stack, from its synthesized configuration. */
export function stateFileOf(stack: SynthesizedStack): string | undefined {
  const config = JSON.parse(readFileSync(join(stack.workingDirectory, "cdk.tf.json"), "utf8"));
  const path: string | undefined = config.terraform?.backend?.local?.path;
  if (!path) return undefined;
  return isAbsolute(path) ? path : join(stack.workingDirectory, path);
}
