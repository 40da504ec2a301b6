/**
 * What the drill changed, kept on disk before each change (`.verify-drill.json`), so that the lab is put back even
 * when the drill's process dies: `npm run verify -- --restore` and `npm run repair` finish an interrupted drill. The
 * drill changes two kinds of things only: containers of the lab it stops, and the operator's maintenance switch (never
 * the watch's flag, which the handler computes from health).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonFileText } from "../shared/generated-file";
import { PROJECT_ROOT } from "../runtime/process";
import type { ConsulApi } from "../runtime/consul-api";
import { DOCKER_TIMEOUTS, LabContainer, LabContainers } from "../runtime/lab-containers";

export const DRILL_STATE_FILE = ".verify-drill.json";

export interface DrillState {
  readonly lab: string;
  /** The containers the drill stopped and has not started again. */
  readonly stopped: string[];
  /** The operator's switch before the drill first wrote it (null: it did not exist). */
  readonly operatorSwitch?: { readonly key: string; readonly before: string | null };
}

export const drillStatePath = () => join(PROJECT_ROOT, DRILL_STATE_FILE);

export function readDrillState(): DrillState | undefined {
  const path = drillStatePath();
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as DrillState) : undefined;
}

/** Records every change before it is made, and undoes them all; the one way the drill changes the lab. */
export class Restorer {
  private state: DrillState;
  private readonly pending = new Set<Promise<unknown>>();
  private restoring?: Promise<string[]>;

  /**
   * `api` may be a function that makes the client when the operator's switch is put back, the one step that needs the
   * API: a repair without the lab's secrets or CA still starts the containers the drill stopped.
   */
  constructor(
    private readonly containers: LabContainers,
    private readonly api: ConsulApi | (() => ConsulApi),
    lab: string,
  ) {
    this.state = readDrillState() ?? { lab, stopped: [] };
  }

  private client?: ConsulApi;

  /** The API client, made on first use when `api` is a function. */
  private consul(): ConsulApi {
    this.client ??= typeof this.api === "function" ? this.api() : this.api;
    return this.client;
  }

  private save(next: DrillState): void {
    this.state = next;
    const path = drillStatePath();
    writeFileSync(`${path}.partial`, jsonFileText(next));
    renameSync(`${path}.partial`, path);
  }

  /** A write of the drill's that the restore must wait out, so it cannot land after the restore. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => {});
    return work;
  }

  async stop(container: LabContainer): Promise<void> {
    this.save({ ...this.state, stopped: [...new Set([...this.state.stopped, container.name])] });
    await this.track(this.containers.stop(container));
  }

  /** Starts a container; it is forgotten only once seen running, so a start that did not stick is restored later. */
  async start(container: LabContainer): Promise<void> {
    await this.track(this.containers.start(container));
    if (!(await this.containers.running(container))) return;
    this.save({ ...this.state, stopped: this.state.stopped.filter((name) => name !== container.name) });
  }

  /** Sets the operator's switch, remembering what it was before the drill first touched it. */
  async setOperatorSwitch(key: string, value: "on" | "off"): Promise<void> {
    if (!this.state.operatorSwitch)
      this.save({ ...this.state, operatorSwitch: { key, before: (await this.consul().kv(key)) ?? null } });
    await this.track(this.consul().putKv(key, value));
  }

  /**
   * Puts everything back, once: every stopped container started, the operator's switch as it was. A second call
   * (a second Ctrl-C) waits for the first instead of cutting it short. Returns one line per thing restored.
   */
  restore(): Promise<string[]> {
    this.restoring ??= this.restoreOnce();
    return this.restoring;
  }

  private async restoreOnce(): Promise<string[]> {
    // The drill's own calls still in flight land first (a docker stop may take its whole grace period), so none can
    // undo what is restored here; each is bounded by its own timeout.
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((resolve) => setTimeout(resolve, DOCKER_TIMEOUTS.act + 1_000).unref()),
    ]);
    const lines: string[] = [];
    // Each host that answers is put back, whatever another one does.
    const { containers: known, unreachable } = await this.containers.listReachable();
    for (const name of [...this.state.stopped].reverse()) {
      const container = known.find((candidate) => candidate.name === name);
      try {
        if (!container)
          throw new Error(
            unreachable.length > 0
              ? `it was not found, and ${unreachable.join("; ")}`
              : "it is not a container of this lab",
          );
        await this.containers.start(container);
        // Started, and still running: only then is it forgotten.
        if (!(await this.containers.running(container))) throw new Error("it did not stay running");
        this.save({ ...this.state, stopped: this.state.stopped.filter((other) => other !== name) });
        lines.push(`started ${name} again`);
      } catch (error) {
        lines.push(`could not start ${name}: ${(error as Error).message}`);
      }
    }
    const operatorSwitch = this.state.operatorSwitch;
    if (operatorSwitch) {
      try {
        if (operatorSwitch.before === null) await this.consul().deleteKv(operatorSwitch.key);
        else await this.consul().putKv(operatorSwitch.key, operatorSwitch.before);
        this.save({ lab: this.state.lab, stopped: this.state.stopped });
        lines.push(`set ${operatorSwitch.key} back to ${operatorSwitch.before ?? "<unset>"}`);
      } catch (error) {
        lines.push(`could not set ${operatorSwitch.key} back: ${(error as Error).message}`);
      }
    }
    // Only a restore that put everything back forgets the state; otherwise `--restore` can try again.
    if (this.state.stopped.length === 0 && !this.state.operatorSwitch) rmSync(drillStatePath(), { force: true });
    return lines;
  }
}

/**
 * Finishes a drill that was interrupted, for `npm run verify -- --restore` and `npm run repair`: undefined when there
 * is none for this lab, else whether everything could be put back.
 */
export async function restoreInterruptedDrill(
  labName: string,
  containers: LabContainers,
  api: ConsulApi | (() => ConsulApi),
  say: (line: string) => void,
): Promise<boolean | undefined> {
  const state = readDrillState();
  if (!state) return undefined;
  if (state.lab !== labName) {
    say(`${DRILL_STATE_FILE} belongs to lab ${state.lab}, not ${labName}; restore it with that lab's topology`);
    return false;
  }
  for (const line of await new Restorer(containers, api, labName).restore()) say(`restored: ${line}`);
  const left = readDrillState();
  say(
    left
      ? `not everything could be put back; ${DRILL_STATE_FILE} keeps the rest`
      : "put back everything the drill changed",
  );
  return !left;
}
