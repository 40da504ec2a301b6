/**
 * Where a Docker CLI's requests go (DOCKER_HOST, or the current context's endpoint), parsed once into what the CLI
 * asks of it: on this machine or not, reached over ssh (and as which target), or a context that does not exist. The
 * doctor, the forwards and the deploy read these fields, never the text again.
 */
import { type SshTarget, sshTargetOf } from "./ssh-forwards";

export type DockerEndpoint =
  /** A socket of this machine: `unix://`, `npipe://`, `fd://`. */
  | { readonly kind: "socket"; readonly url: string }
  /** A network endpoint: `ssh://`, `tcp://`, `http(s)://`; `ssh` is set for `ssh://`, which the forwards go through. */
  | {
      readonly kind: "network";
      readonly url: string;
      readonly scheme: "ssh" | "tcp" | "http" | "https";
      readonly remote: boolean;
      readonly ssh?: SshTarget;
    }
  /** DOCKER_CONTEXT names a context that `docker context ls` does not list. */
  | { readonly kind: "missing-context"; readonly context: string };

/** The host names an engine of this machine is reached by. */
const THIS_MACHINE = ["127.0.0.1", "localhost", "::1"];

export function parseDockerEndpoint(url: string): DockerEndpoint {
  const scheme = /^(ssh|tcp|https?):\/\//.exec(url)?.[1] as "ssh" | "tcp" | "http" | "https" | undefined;
  if (!scheme) return { kind: "socket", url };
  let remote = true;
  try {
    // URL keeps an IPv6 address in brackets (tcp://[::1]:2375 has hostname "[::1]").
    remote = !THIS_MACHINE.includes(new URL(url).hostname.replace(/^\[(.*)\]$/, "$1"));
  } catch {
    // An endpoint URL cannot read is nowhere this machine knows.
  }
  const ssh = sshTargetOf(url);
  return { kind: "network", url, scheme, remote, ...(ssh ? { ssh } : {}) };
}

/** The endpoint as messages show it: its URL, or the context that was not found. */
export function describeEndpoint(endpoint: DockerEndpoint): string {
  return endpoint.kind === "missing-context"
    ? `context ${endpoint.context} (not found: \`docker context ls\`)`
    : endpoint.url;
}

/** Whether the engine is on another machine: a network address that is not this machine's. */
export function isRemoteEngine(endpoint: DockerEndpoint): boolean {
  return endpoint.kind === "network" && endpoint.remote;
}
