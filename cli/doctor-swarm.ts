/**
 * The doctor's checks of a lab over several hosts: every host a node of one Docker Swarm, active and ready, with a
 * manager where the topology creates the overlay; when that is not so, the exact `docker swarm init` and `join`
 * commands to run, each aimed at its host.
 */
import type { HostSpec, Lab } from "../topology";
import type { LabEngine } from "../runtime/lab-engines";
import { type CheckResult, ok, problem } from "./check-result";

/** The part of `docker info`'s `Swarm` the checks read. */
export interface SwarmInfo {
  NodeID?: string;
  NodeAddr?: string;
  /** `inactive`, `pending`, `active`, `error` or `locked`. */
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
  Cluster?: { ID?: string };
}

/** One line of the manager's `docker node ls --format '{{json .}}'`. */
interface SwarmNode {
  ID: string;
  Hostname?: string;
  /** `Ready` or `Down`. */
  Status?: string;
  /** `Active`, `Pause` or `Drain`. */
  Availability?: string;
}

/** The command line that runs `docker <args>` against a host, as the user would type it. */
export function dockerCommandOn(host: HostSpec, args: string): string {
  if (host.context !== undefined) return `docker --context ${host.context} ${args}`;
  const tls = host.certPath !== undefined ? ` DOCKER_CERT_PATH=${host.certPath} DOCKER_TLS_VERIFY=1` : "";
  return `DOCKER_HOST=${host.endpoint}${tls} docker ${args}`;
}

/** The address the other hosts reach a host at, as far as its endpoint tells; a placeholder otherwise. */
function advertiseAddressOf(host: HostSpec): string {
  const hostname = host.endpoint ? /^[a-z]+:\/\/(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+)/.exec(host.endpoint)?.[1] : undefined;
  return hostname && /^[\d.]+$/.test(hostname) ? hostname : `<${host.name}'s address on the hosts' network>`;
}

/**
 * Whether the hosts form one swarm the lab can use. `engines` are the lab's reachable engines (a host the doctor could
 * not reach is reported by its engine check and left out here).
 */
export function checkSwarm(lab: Lab, engines: readonly LabEngine[]): CheckResult {
  const check = "swarm";
  const manager = lab.managerHost!;
  const managerEngine = engines.find((engine) => engine.host?.name === manager.name);
  if (!managerEngine)
    return problem(check, `the manager ${manager.name} does not answer`, "see its docker engine line");
  const infoOf = (engine: LabEngine) =>
    engine.docker.json<SwarmInfo>(["info", "--format", "{{json .Swarm}}"]) ?? { LocalNodeState: "unknown" };
  const managerInfo = infoOf(managerEngine);
  if (managerInfo.LocalNodeState !== "active") {
    return problem(
      check,
      `${manager.name}, which creates the lab's overlay network, is not in a swarm (${managerInfo.LocalNodeState ?? "unknown"}${managerInfo.Error ? `: ${managerInfo.Error}` : ""})`,
      `make it a manager: \`${dockerCommandOn(manager, `swarm init --advertise-addr ${advertiseAddressOf(manager)}`)}\`, then run the doctor again for each host's join command`,
    );
  }
  if (!managerInfo.ControlAvailable) {
    return problem(
      check,
      `${manager.name} is a swarm worker, and the lab's overlay network is created through a manager`,
      `promote it from a manager (\`docker node promote <its node>\`), or mark a manager host with manager: true in the topology`,
    );
  }
  const nodes = (managerEngine.docker.run(["node", "ls", "--format", "{{json .}}"]).stdout ?? "")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as SwarmNode);
  const joinToken = () => managerEngine.docker.run(["swarm", "join-token", "--quiet", "worker"]).stdout.trim();
  const managerAddress = `${managerInfo.NodeAddr}:2377`;
  const wrong: string[] = [];
  const fixes: string[] = [];
  for (const engine of engines) {
    if (engine === managerEngine) continue;
    const host = engine.host!;
    const info = infoOf(engine);
    const node = nodes.find((candidate) => candidate.ID === info.NodeID);
    if (info.LocalNodeState !== "active") {
      wrong.push(`${host.name} is not in a swarm (${info.LocalNodeState ?? "unknown"})`);
      fixes.push(`\`${dockerCommandOn(host, `swarm join --token ${joinToken() || "<token>"} ${managerAddress}`)}\``);
    } else if (!node) {
      wrong.push(`${host.name} is in another swarm than ${manager.name}'s`);
      fixes.push(
        `\`${dockerCommandOn(host, "swarm leave")}\`, then \`${dockerCommandOn(host, `swarm join --token ${joinToken() || "<token>"} ${managerAddress}`)}\``,
      );
    } else if (node.Status !== "Ready" || node.Availability !== "Active") {
      wrong.push(`${host.name} is ${node.Status}/${node.Availability} in the swarm`);
      fixes.push(
        node.Availability !== "Active"
          ? `\`${dockerCommandOn(manager, `node update --availability active ${node.ID}`)}\``
          : `bring ${host.name}'s engine back, and open 2377/tcp, 7946/tcp+udp and 4789/udp between the hosts`,
      );
    }
  }
  if (wrong.length > 0) return problem(check, wrong.join("; "), fixes.join("; "));
  return ok(
    check,
    `${engines.length} hosts are ready and active in one swarm, managed from ${manager.name} (${managerAddress}): ` +
      "2377/tcp and 7946 work between them; 4789/udp (the overlay's traffic) shows only in use: verify checks that nodes on different hosts reach each other",
  );
}
