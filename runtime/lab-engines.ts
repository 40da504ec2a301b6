/**
 * The Docker engines a lab runs on: the one the environment points at (DOCKER_HOST, the current context), or on a lab
 * over several hosts one per host that runs nodes (and the manager), each reached as its `hosts` entry says. Every
 * Docker command about a node goes to its host's engine.
 */
import type { HostSpec, Lab } from "../topology";
import { DockerCli } from "./docker-cli";
import { environmentFor } from "../shared/docker-hosts";

export interface LabEngine {
  /** The host, on a lab over several hosts; undefined for the one engine of a lab on one host. */
  readonly host?: HostSpec;
  readonly docker: DockerCli;
}

/**
 * Each engine of the lab, in `hosts` order: every host that runs nodes, and the manager, which creates the network
 * even when it runs none.
 */
export function labEngines(lab: Lab, env: NodeJS.ProcessEnv): LabEngine[] {
  if (!lab.multiHost) return [{ docker: new DockerCli(env) }];
  return lab.hosts
    .filter((host) => lab.nodesOn(host.name).length > 0 || host.name === lab.managerHost?.name)
    .map((host) => ({ host, docker: new DockerCli(environmentFor(env, host)) }));
}

/** Whether an engine runs any of the lab's nodes (a manager may run none). */
export function runsNodes(lab: Lab, engine: LabEngine): boolean {
  return !engine.host || lab.nodesOn(engine.host.name).length > 0;
}

/** "on host lab-b" for an engine of a lab over several hosts, empty for the one engine of a lab on one host. */
export function onHost(engine: LabEngine): string {
  return engine.host ? ` on host ${engine.host.name}` : "";
}

/** The engine, of the lab's `engines`, that runs the publish node, whose host publishes the lab's ports. */
export function publishEngine(lab: Lab, engines: readonly LabEngine[]): LabEngine {
  const host = lab.hostOf(lab.publishNode.name);
  return engines.find((engine) => engine.host?.name === host?.name)!;
}
