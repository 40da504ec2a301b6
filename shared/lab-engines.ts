/**
 * The Docker engines a lab runs on: the one the environment points at (DOCKER_HOST, the current context), or on a lab
 * over several hosts one per host that runs nodes, each reached as its `hosts` entry says. Every Docker command about
 * a node goes to its host's engine.
 */
import type { HostSpec, Lab } from "../topology";
import { DockerCli } from "./docker-cli";
import { environmentFor } from "./docker-hosts";

export interface LabEngine {
  /** The host, on a lab over several hosts; undefined for the one engine of a lab on one host. */
  readonly host?: HostSpec;
  readonly docker: DockerCli;
}

/** Each engine of the lab, in `hosts` order. */
export function labEngines(lab: Lab, env: NodeJS.ProcessEnv): LabEngine[] {
  if (!lab.multiHost) return [{ docker: new DockerCli(env) }];
  return lab.hosts
    .filter((host) => lab.nodesOn(host.name).length > 0)
    .map((host) => ({ host, docker: new DockerCli(environmentFor(env, host)) }));
}

/** "on host lab-b" for an engine of a lab over several hosts, empty for the one engine of a lab on one host. */
export function onHost(engine: LabEngine): string {
  return engine.host ? ` on host ${engine.host.name}` : "";
}
