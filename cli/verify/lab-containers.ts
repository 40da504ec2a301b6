/**
 * The lab's containers, found by the `consul-lab.lab` label every one of them carries, and the only ones `verify`
 * ever stops, starts or runs a command in.
 */
import { LAB_LABEL, NODE_LABEL, ROLE_LABEL } from "../../constructs/labels";
import type { DockerCli } from "../docker";
import { assessPods, inspectLab, NodePod } from "../node-pods";

export interface LabContainer {
  readonly name: string;
  readonly node: string;
  /** `netns`, `agent`, `dns`, or the workload's kind (`app`, `sorry`, `load-balancer`, `entry`, ...). */
  readonly role: string;
  readonly running: boolean;
}

interface PsLine {
  Names: string;
  Labels: string;
  State: string;
}

/** The containers of one lab, found and acted on by label; refuses to act on anything else. */
export class LabContainers {
  constructor(
    private readonly docker: DockerCli,
    readonly labName: string,
  ) {}

  /** Every container of the lab, running or not; throws when Docker cannot be asked. */
  list(): LabContainer[] {
    const args = ["ps", "--all", "--filter", `label=${LAB_LABEL}=${this.labName}`, "--format", "{{json .}}"];
    const result = this.docker.run(args);
    if (result.startError || result.status !== 0) {
      throw new Error(`docker ps failed: ${(result.startError ?? result.stderr).trim().split("\n").pop()}`);
    }
    return result.stdout
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as PsLine)
      .map((line) => {
        const labels = Object.fromEntries(
          line.Labels.split(",").map((pair) => {
            const at = pair.indexOf("=");
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
        );
        return {
          name: line.Names,
          node: labels[NODE_LABEL] ?? "",
          role: labels[ROLE_LABEL] ?? "",
          running: line.State === "running",
        };
      })
      .filter((container) => container.node !== "");
  }

  /** Each node's pod: whether its containers run inside its namespace (node-pods.ts). */
  async pods(): Promise<NodePod[]> {
    return assessPods(await inspectLab(this.docker, this.labName));
  }

  find(node: string, role: string): LabContainer | undefined {
    return this.list().find((container) => container.node === node && container.role === role);
  }

  /** Stops or starts a container of this lab; anything else is refused. */
  private act(action: "stop" | "start", container: LabContainer): void {
    if (!this.list().some((candidate) => candidate.name === container.name)) {
      throw new Error(`refusing to ${action} ${container.name}: it is not a container of lab ${this.labName}`);
    }
    const result = this.docker.run([action, container.name]);
    if (result.status !== 0) throw new Error(`docker ${action} ${container.name}: ${result.stderr.trim()}`);
  }

  stop(container: LabContainer): void {
    this.act("stop", container);
  }

  start(container: LabContainer): void {
    this.act("start", container);
  }

  /** Runs a command in a container of this lab; its stdout, or undefined when it failed. */
  async exec(container: LabContainer, command: readonly string[]): Promise<string | undefined> {
    const result = await this.docker.runAsync(["exec", container.name, ...command]);
    return result.status === 0 ? result.stdout : undefined;
  }
}
