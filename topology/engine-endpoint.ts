/**
 * A host's engine endpoint (`ssh://[user@]host[:port]`, `tcp://host:port`) parsed once, as Docker parses it: what
 * validation checks the host part against, and how two endpoints are told to be one engine.
 */
import { isIPv6 } from "node:net";

export interface EngineEndpoint {
  readonly scheme: "ssh" | "tcp";
  readonly user?: string;
  /** The host as written, without brackets. */
  readonly host: string;
  readonly port: number;
}

/** The ports Docker uses when an endpoint names none: ssh's, and the TLS engine port. */
const DEFAULT_PORT = { ssh: 22, tcp: 2376 } as const;

/** A DNS host name: labels of letters, digits and '-', none starting or ending with '-', and at least one label. */
const HOST_NAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The endpoint's parts, or why Docker could not use it. */
export function parseEngineEndpoint(endpoint: string): EngineEndpoint | string {
  const match = /^(ssh|tcp):\/\/(?:([^@/]+)@)?(\[[^\]]*\]|[^:/]*)(?::(\d+))?$/.exec(endpoint);
  if (!match) return `"${endpoint}" is not ssh://[user@]host[:port] or tcp://host:port`;
  const scheme = match[1] as "ssh" | "tcp";
  const [user, rawHost, port] = [match[2], match[3], match[4]];
  const bracketed = rawHost.startsWith("[");
  const host = bracketed ? rawHost.slice(1, -1) : rawHost;
  if (bracketed ? !isIPv6(host) : !(IPV4.test(host) || HOST_NAME.test(host)))
    return `"${rawHost}" in "${endpoint}" is not a host Docker can reach: a host name (labels of letters, digits and '-', none starting with '-'), an IPv4 address, or an IPv6 address in brackets`;
  return { scheme, user, host, port: port === undefined ? DEFAULT_PORT[scheme] : Number(port) };
}

/** One engine, however its endpoint is written: the scheme, the host in lower case (no trailing dot), the port. */
export function engineIdentity(endpoint: EngineEndpoint): string {
  return `${endpoint.scheme}://${endpoint.host.toLowerCase().replace(/\.$/, "")}:${endpoint.port}`;
}
