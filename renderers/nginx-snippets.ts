/** nginx fragments more than one rendered config uses. */
import { PROXY_CONNECT_TIMEOUT_MS } from "../shared/lab-contract";

/** The request headers a proxy passes on, each with the nginx variable it is set from. */
const PROXY_HEADERS = {
  Host: "$host",
  "X-Real-IP": "$remote_addr",
  "X-Forwarded-Proto": "$scheme",
  "X-Forwarded-Host": "$http_host",
  "X-Forwarded-Server": "$host",
  "X-Forwarded-For": "$proxy_add_x_forwarded_for",
} as const;

/** `proxy_set_header` lines for the named headers, in the order given, inside a location. */
export function proxyHeaders(names: readonly (keyof typeof PROXY_HEADERS)[]): string[] {
  return names.map((name) => `        proxy_set_header ${name} ${PROXY_HEADERS[name]};`);
}

/**
 * A location that answers a Consul HTTP check from nginx itself, so the check tests this process and not whatever
 * it proxies to. Empty when the service's check is not HTTP.
 */
export function healthLocation(path: string | undefined, why: string): string[] {
  if (path === undefined) return [];
  return [
    "",
    `    # ${why}`,
    `    location = ${path} {`,
    "        access_log off;",
    '        return 200 "ok\\n";',
    "    }",
  ];
}

/**
 * The lines that move a proxied request on to the next upstream: on the errors given, and after
 * PROXY_CONNECT_TIMEOUT_MS without a connection (a lost host's node answers none).
 */
export function proxyFailover(nextUpstreamOn: string): string[] {
  return [
    `        proxy_next_upstream ${nextUpstreamOn};`,
    `        proxy_connect_timeout ${PROXY_CONNECT_TIMEOUT_MS}ms;`,
  ];
}
