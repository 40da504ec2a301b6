/**
 * How this machine reaches the ports the lab publishes, for one command: directly when the publish node's engine runs
 * here, through SSH forwards when it runs on a host reached over `ssh://` (ssh-forwards.ts). A remote engine reached
 * any other way publishes where this machine cannot reach, and is refused with the fix.
 */
import type { Lab } from "../topology";
import { type DockerEndpoint, describeEndpoint } from "./docker-endpoint";
import { type LabEngine, labEngines, publishEngine } from "./lab-engines";
import { CliError } from "./process";
import { publishedTcpPorts, SshForwards, type SshTarget } from "./ssh-forwards";

export interface PublishedPorts {
  /** The ssh destination the ports come through, when they are forwarded. */
  readonly forwardedFrom?: string;
  close(): Promise<void>;
}

/** Where the publish node's engine is: here, over ssh:// (forwardable), or elsewhere (not reachable). */
export type PublishReach =
  | { readonly kind: "local"; readonly endpoint: DockerEndpoint; readonly host?: string }
  /** Remote, publishing on an address of its network (publish.exposeOnNetwork): dialled there directly. */
  | { readonly kind: "network"; readonly endpoint: DockerEndpoint; readonly host?: string }
  | { readonly kind: "ssh"; readonly endpoint: DockerEndpoint; readonly ssh: SshTarget; readonly host?: string }
  | { readonly kind: "unreachable"; readonly endpoint: DockerEndpoint; readonly host?: string };

export function publishReach(lab: Lab, env: NodeJS.ProcessEnv): PublishReach {
  return reachOf(publishEngine(lab, labEngines(lab, env)), lab);
}

/** Where an engine is, as the published ports are concerned. */
export function reachOf(engine: LabEngine, lab: Lab): PublishReach {
  const endpoint = engine.docker.endpoint();
  const host = engine.host?.name;
  if (endpoint.kind !== "network" || !endpoint.remote) return { kind: "local", endpoint };
  if (!lab.publishesOnLoopback) return { kind: "network", endpoint, host };
  return endpoint.ssh ? { kind: "ssh", endpoint, ssh: endpoint.ssh, host } : { kind: "unreachable", endpoint, host };
}

/** Why a remote engine that is not reached over ssh:// cannot serve the CLI, with the fix. */
export function unreachableReason(lab: Lab, reach: PublishReach): string {
  const where = reach.host ? `host ${reach.host} (the publish node ${lab.publishNode.name}'s)` : "the engine";
  return `${where} is ${describeEndpoint(reach.endpoint)}, a remote engine: the lab publishes Consul and the site on ${lab.topology.publish.address} of that machine, which this machine reaches only through SSH forwards; reach it as ssh://user@host (DOCKER_HOST, a context, or the host's endpoint)`;
}

/** Opens what the command needs to reach the published ports; close() when it is done. */
export async function reachPublishedPorts(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  engine: LabEngine = publishEngine(lab, labEngines(lab, env)),
): Promise<PublishedPorts> {
  const reach = reachOf(engine, lab);
  if (reach.kind === "local" || reach.kind === "network") return { close: async () => undefined };
  if (reach.kind === "unreachable") throw new CliError(unreachableReason(lab, reach));
  const target = reach.ssh;
  // The same loopback address on both sides: the remote host binds publish.address, and this machine dials it.
  const forwards = await SshForwards.open(target, lab.publishedHost, publishedTcpPorts(lab), env);
  return { forwardedFrom: target.destination, close: () => forwards.close() };
}
