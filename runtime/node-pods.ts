/**
 * Whether each node of a lab is whole: its namespace container running, and every container joined to it (agent,
 * workload, DNS forwarder) running inside that namespace's current network namespace.
 *
 * Docker joins a `container:` namespace only when the joined container starts. A namespace container that restarts
 * (`docker restart`, an OOM kill, the restart policy after a crash) gets a new network namespace, and the containers
 * joined to the old one keep running with only `lo` (seen on a real engine; `npm run test:engine` shows it). After a
 * daemon restart, Engines before 29 may also leave joined containers exited (moby#50326). So a joined container is
 * in its namespace's current network namespace exactly when it started after that namespace container last started,
 * which `docker inspect` tells for a remote engine too, without running anything inside the containers.
 */
import { LAB_LABEL, NAMESPACE_ROLE, NODE_LABEL, ROLE_LABEL } from "../shared/labels";
import type { DockerCli } from "./docker-cli";
import { type DeployedContainers, isDeployed } from "./deployed-containers";

/** The part of `docker inspect` this module reads. */
export interface InspectedContainer {
  readonly Id: string;
  readonly Name: string;
  readonly State: { readonly Running: boolean; readonly Status: string; readonly StartedAt: string };
  readonly HostConfig: { readonly NetworkMode: string };
  readonly Config: { readonly Labels: Readonly<Record<string, string>> | null };
}

export type JoinedState =
  | "whole"
  /** Not running. */
  | "stopped"
  /** Running, but joined to a namespace that has since restarted: it has only `lo`. */
  | "stranded"
  /** Joined to another container than the node's namespace container (replaced outside Terraform). */
  | "detached";

export interface JoinedContainer {
  readonly name: string;
  readonly role: string;
  readonly state: JoinedState;
}

export interface NodePod {
  readonly node: string;
  /** The namespace container's name, or undefined when the node has none. */
  readonly namespace?: string;
  readonly namespaceRunning: boolean;
  readonly joined: readonly JoinedContainer[];
}

const nameOf = (container: InspectedContainer) => container.Name.replace(/^\//, "");

/** Docker's RFC 3339 time with nanoseconds, as a number that keeps their order (Date.parse keeps only ms). */
function startedAtKey(startedAt: string): bigint {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$/.exec(startedAt);
  if (!match) return -1n;
  const [, y, mo, d, h, mi, s, fraction = ""] = match;
  const seconds = BigInt(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000);
  return seconds * 1_000_000_000n + BigInt(fraction.padEnd(9, "0"));
}

/** Each node's pod, from the inspected containers of one lab (any order). */
export function assessPods(containers: readonly InspectedContainer[]): NodePod[] {
  const byNode = new Map<string, InspectedContainer[]>();
  for (const container of containers) {
    const node = container.Config.Labels?.[NODE_LABEL];
    if (!node) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), container]);
  }
  return [...byNode.keys()].sort().map((node) => {
    const members = byNode.get(node)!;
    const namespace = members.find((container) => container.Config.Labels?.[ROLE_LABEL] === NAMESPACE_ROLE);
    const joined = members
      .filter((container) => container !== namespace)
      .map((container): JoinedContainer => {
        const role = container.Config.Labels?.[ROLE_LABEL] ?? "";
        const name = nameOf(container);
        if (!container.State.Running) return { name, role, state: "stopped" };
        if (!namespace || container.HostConfig.NetworkMode !== `container:${namespace.Id}`)
          return { name, role, state: "detached" };
        const stranded =
          !namespace.State.Running || startedAtKey(container.State.StartedAt) < startedAtKey(namespace.State.StartedAt);
        return { name, role, state: stranded ? "stranded" : "whole" };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      node,
      namespace: namespace && nameOf(namespace),
      namespaceRunning: namespace?.State.Running ?? false,
      joined,
    };
  });
}

/** Whether a pod is whole: its namespace running and every joined container in it. */
export function podIsWhole(pod: NodePod): boolean {
  return pod.namespaceRunning && pod.joined.every((container) => container.state === "whole");
}

/** What is wrong with a pod, in one phrase per container, for verify's and repair's reports. */
export function podProblems(pod: NodePod): string[] {
  const problems: string[] = [];
  if (!pod.namespace) problems.push(`${pod.node} has no namespace container`);
  else if (!pod.namespaceRunning) problems.push(`${pod.namespace} is stopped`);
  for (const container of pod.joined) {
    if (container.state === "stopped") problems.push(`${container.name} is stopped`);
    if (container.state === "stranded") problems.push(`${container.name} is stranded (its namespace restarted)`);
    if (container.state === "detached")
      problems.push(`${container.name} is not joined to ${pod.namespace ?? "a namespace"}`);
  }
  return problems;
}

/** Every container of a lab, inspected; throws with Docker's own words when Docker cannot be asked. */
export async function inspectLab(
  docker: DockerCli,
  labName: string,
  /** Only these, when the cluster stack's state records them (deployed-containers.ts). */
  deployed?: DeployedContainers,
): Promise<InspectedContainer[]> {
  const listed = await docker.runAsync([
    "ps",
    "--all",
    "--quiet",
    "--no-trunc",
    "--filter",
    `label=${LAB_LABEL}=${labName}`,
  ]);
  if (listed.startError || listed.status !== 0) {
    throw new Error(`docker ps failed: ${(listed.startError ?? listed.stderr).trim().split("\n").pop()}`);
  }
  const ids = listed.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((id) => id && isDeployed(deployed, id));
  if (ids.length === 0) return [];
  const inspected = await docker.runAsync(["inspect", "--type", "container", ...ids]);
  // A container removed between the two calls makes inspect exit 1, with the others still in its answer.
  if (!inspected.stdout.trim().startsWith("[")) {
    throw new Error(`docker inspect failed: ${(inspected.startError ?? inspected.stderr).trim().split("\n").pop()}`);
  }
  return (JSON.parse(inspected.stdout) as InspectedContainer[]).filter(
    (container) => container.Config.Labels?.[LAB_LABEL] === labName,
  );
}
