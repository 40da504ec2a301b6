/** nginx fragments more than one rendered config uses. */

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
