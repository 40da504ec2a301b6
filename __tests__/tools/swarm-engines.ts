/**
 * The fake engines of examples/three-hosts.yaml, one per host (FAKE_DOCKER_HOSTS): each a node of one healthy swarm
 * managed from lab-a, as `docker info` and `docker node ls` show it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerVariablesOf } from "../../shared/docker-hosts";
import { engineFileName } from "./fakes/engine-file.cjs";
import { exampleLab } from "./helpers";
import { HEALTHY_DOCKER } from "./lab-checkout";

export type HostName = "lab-a" | "lab-b" | "lab-c";
const HOST_NAMES: readonly HostName[] = ["lab-a", "lab-b", "lab-c"];
export type EngineState = Record<string, any>;

/** A host's engine in a healthy swarm: lab-a its manager, at 192.168.77.1. */
export function engineIn(host: HostName): EngineState {
  const manager = host === "lab-a";
  return {
    ...structuredClone(HEALTHY_DOCKER),
    info: {
      ...HEALTHY_DOCKER.info,
      Swarm: {
        NodeID: `node-${host}`,
        NodeAddr: `192.168.77.${host.charCodeAt(4) - 96}`,
        LocalNodeState: "active",
        ControlAvailable: manager,
        ...(manager ? { Cluster: { ID: "cluster-1" } } : {}),
      },
    },
    ...(manager
      ? {
          joinToken: "SWMTKN-1-worker-token",
          swarmNodes: HOST_NAMES.map((name) => ({
            ID: `node-${name}`,
            Hostname: name,
            Status: "Ready",
            Availability: "Active",
          })),
        }
      : {}),
  };
}

/** A folder of the three engines, after `change` (an engine set to undefined does not answer). */
export function swarmEngines(change: (engines: Record<HostName, EngineState | undefined>) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-engines-"));
  const engines: Record<HostName, EngineState | undefined> = {
    "lab-a": engineIn("lab-a"),
    "lab-b": engineIn("lab-b"),
    "lab-c": engineIn("lab-c"),
  };
  change(engines);
  const lab = exampleLab("three-hosts.yaml");
  for (const host of lab.hosts) {
    const state = engines[host.name as HostName];
    if (state) writeFileSync(join(dir, engineFileName(dockerVariablesOf(host))), JSON.stringify(state));
  }
  return dir;
}
