/**
 * The lab's containers, found by the `consul-lab.lab` label every one of them carries and, once the cluster stack's
 * state records what it deployed, among those alone (runtime/deployed-containers.ts): the only ones `verify` ever
 * stops, starts or runs a command in. Every Docker call is asynchronous and bounded, so the entry keeps being
 * asked while Docker works, and no call can hang a drill.
 */
import { LAB_LABEL, NODE_LABEL, ROLE_LABEL } from "../shared/labels";
import { DockerCli } from "./docker-cli";
import { LabEngine, onHost } from "./lab-engines";
import { assessPods, inspectLab, NodePod } from "./node-pods";
import { type DeployedContainers, isDeployed } from "./deployed-containers";

export interface LabContainer {
  readonly name: string;
  readonly node: string;
  /** `netns`, `agent`, `dns`, or the workload's kind (`app`, `sorry`, `load-balancer`, `entry`, ...). */
  readonly role: string;
  readonly running: boolean;
  /** The host it runs on, on a lab over several hosts. */
  readonly host?: string;
}

interface PsLine {
  /** The short ID, as `docker ps` writes it. */
  ID?: string;
  Names: string;
  Labels: string;
  State: string;
}

/** How long each kind of Docker call may take, in milliseconds. */
export const DOCKER_TIMEOUTS = {
  /** `docker ps` and `inspect`. */
  list: 30_000,
  /** `docker stop` (which itself gives the container 10 s) and `start`. */
  act: 45_000,
  /** `docker exec` of a short command. */
  exec: 10_000,
} as const;

/** Docker's last line of complaint, or why the call never answered. */
const whyFailed = (result: { startError?: string; stderr: string }) =>
  (result.startError ?? result.stderr).trim().split("\n").pop();

/**
 * The containers of one lab, found and acted on by label; refuses to act on anything else. On a lab over several hosts
 * each host's engine is asked for its own, and a command about a container goes to the host it runs on.
 */
export class LabContainers {
  private readonly engines: readonly LabEngine[];

  /** Containers that carry the lab's labels but are not among those deployed: never acted on, by name. */
  readonly leftAlone = new Set<string>();

  /** `engines`: the lab's engines (runtime/lab-engines.ts), or the one CLI of a lab on one host. */
  constructor(
    engines: DockerCli | readonly LabEngine[],
    readonly labName: string,
    /** The containers the checkout deployed (runtime/deployed-containers.ts); undefined: the labels decide. */
    private readonly deployed?: DeployedContainers,
  ) {
    this.engines = engines instanceof DockerCli ? [{ docker: engines }] : engines;
  }

  /** Every container of the lab on every host, running or not; throws, naming the host, when one cannot be asked. */
  async list(): Promise<LabContainer[]> {
    const perHost = await Promise.all(this.engines.map((engine) => this.listOn(engine)));
    return perHost.flat();
  }

  /** The containers of every host that answers, and why each other host could not be asked. */
  async listReachable(): Promise<{ containers: LabContainer[]; unreachable: string[] }> {
    const perHost = await Promise.allSettled(this.engines.map((engine) => this.listOn(engine)));
    return {
      containers: perHost.flatMap((result) => (result.status === "fulfilled" ? result.value : [])),
      unreachable: perHost.flatMap((result) =>
        result.status === "rejected" ? [(result.reason as Error).message] : [],
      ),
    };
  }

  private async listOn(engine: LabEngine): Promise<LabContainer[]> {
    const args = ["ps", "--all", "--filter", `label=${LAB_LABEL}=${this.labName}`, "--format", "{{json .}}"];
    const result = await engine.docker.runAsync(args, DOCKER_TIMEOUTS.list);
    if (result.startError || result.status !== 0)
      throw new Error(`docker ps${onHost(engine)} failed: ${whyFailed(result)}`);
    return result.stdout
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as PsLine)
      .filter((line) => {
        if (isDeployed(this.deployed, line.ID ?? "")) return true;
        this.leftAlone.add(line.Names);
        return false;
      })
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
          ...(engine.host ? { host: engine.host.name } : {}),
        };
      })
      .filter((container) => container.node !== "");
  }

  async find(node: string, role: string): Promise<LabContainer | undefined> {
    return (await this.list()).find((container) => container.node === node && container.role === role);
  }

  /** Each node's pod: whether its containers run inside its namespace (node-pods.ts). A pod never spans hosts. */
  async pods(): Promise<NodePod[]> {
    const perHost = await Promise.all(
      this.engines.map(async (engine) => assessPods(await inspectLab(engine.docker, this.labName, this.deployed))),
    );
    return perHost.flat();
  }

  /** The engine a container runs on. */
  private engineOf(container: Pick<LabContainer, "host">): LabEngine {
    return this.engines.find((candidate) => candidate.host?.name === container.host) ?? this.engines[0];
  }

  private dockerOf(container: LabContainer): DockerCli {
    return this.engineOf(container).docker;
  }

  /** Stops or starts a container of this lab; anything else is refused. */
  private async act(action: "stop" | "start", container: LabContainer): Promise<void> {
    // Asked of its own host only, so a host that does not answer stops nothing on the others.
    if (!(await this.listOn(this.engineOf(container))).some((candidate) => candidate.name === container.name)) {
      throw new Error(`refusing to ${action} ${container.name}: it is not a container of lab ${this.labName}`);
    }
    const result = await this.dockerOf(container).runAsync([action, container.name], DOCKER_TIMEOUTS.act);
    if (result.status !== 0 || result.startError)
      throw new Error(`docker ${action} ${container.name}: ${whyFailed(result)}`);
  }

  stop(container: LabContainer): Promise<void> {
    return this.act("stop", container);
  }

  start(container: LabContainer): Promise<void> {
    return this.act("start", container);
  }

  /** Whether a container of this lab runs now, as its own host says. */
  async running(container: Pick<LabContainer, "name" | "host">): Promise<boolean> {
    return (await this.listOn(this.engineOf(container))).some(
      (candidate) => candidate.name === container.name && candidate.running,
    );
  }

  /** Runs a command in a container of this lab; its stdout, or undefined when it failed or did not answer in time. */
  async exec(container: LabContainer, command: readonly string[], timeoutMs: number = DOCKER_TIMEOUTS.exec) {
    const result = await this.dockerOf(container).runAsync(["exec", container.name, ...command], timeoutMs);
    return result.status === 0 && !result.startError ? result.stdout : undefined;
  }

  /**
   * Runs a command whose failure is an answer too (BusyBox's nslookup exits 1 when the server refuses a name); its
   * stdout whatever its exit status, or undefined when it did not run: Docker could not start it (126, 127, or
   * docker's own 125) or it did not answer in time.
   */
  async execAnswer(container: LabContainer, command: readonly string[], timeoutMs: number = DOCKER_TIMEOUTS.exec) {
    const result = await this.dockerOf(container).runAsync(["exec", container.name, ...command], timeoutMs);
    return result.startError || [125, 126, 127].includes(result.status) ? undefined : result.stdout;
  }
}

/** What verify and repair say of containers that carry the lab's labels but that this checkout did not deploy. */
export function leftAloneLine(containers: LabContainers, labName: string): string {
  return `left alone: ${[...containers.leftAlone].sort().join(", ")} (labelled as lab ${labName}'s, but not among the containers the cluster stack's state records as deployed from this checkout)`;
}
