/**
 * The fake engines of examples/three-hosts.yaml, one per host (FAKE_DOCKER_HOSTS): each a node of one healthy swarm
 * managed from lab-a, as `docker info` and `docker node ls` show it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEALTHY_DOCKER } from "./lab-checkout";

/** Each host's state file, named as the fake docker finds it from the host's endpoint or context. */
export const ENGINE_FILES = {
  "lab-a": "ssh___ops_lab-a.example.test.json",
  "lab-b": "ssh___ops_lab-b.example.test.json",
  "lab-c": "context_lab-c.json",
} as const;
export type HostName = keyof typeof ENGINE_FILES;
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
          swarmNodes: (Object.keys(ENGINE_FILES) as HostName[]).map((name) => ({
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
  for (const [host, state] of Object.entries(engines))
    if (state) writeFileSync(join(dir, ENGINE_FILES[host as HostName]), JSON.stringify(state));
  return dir;
}
