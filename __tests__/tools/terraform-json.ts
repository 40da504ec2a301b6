/** Reading a synthesized cdk.tf.json as Terraform would: its resources, and what each one depends on. */

export interface ResourceNode {
  /** `type.name`, as Terraform addresses it. */
  readonly address: string;
  readonly type: string;
  readonly body: any;
  /** Direct dependencies: `depends_on` and every resource an expression in the body references. */
  readonly dependsOn: ReadonlySet<string>;
}

/** Every `${...}` expression in a value, at any depth. */
export function expressionsIn(value: unknown): string[] {
  if (typeof value === "string") return [...value.matchAll(/\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)].map((m) => m[1]);
  if (Array.isArray(value)) return value.flatMap(expressionsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(expressionsIn);
  return [];
}

/**
 * Every object a stack names where Terraform reads references: in any string that holds an expression (`${`, at any
 * depth of nesting) and in the `depends_on` lists of resources and data sources. Addresses are `type.name` for a
 * resource, `data.type.name`, `var.name` and `local.name`, each taken where an address can start, not from inside an
 * attribute path (`...output.node_map`).
 */
export function referencesIn(stack: any): string[] {
  const dependsOn = [stack.resource, stack.data].flatMap((section) =>
    Object.values<any>(section ?? {}).flatMap((byName) =>
      Object.values<any>(byName).flatMap((body) => (body.depends_on ?? []) as string[]),
    ),
  );
  const expressions = stringsIn(stack)
    .map((entry) => entry.text)
    .filter((text) => text.includes("${"));
  const address =
    /(?<![\w.-])(data\.[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+|var\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z0-9_-]+)/g;
  return [...expressions, ...dependsOn].flatMap((text) => [...text.matchAll(address)].map((match) => match[1]));
}

/** What a stack declares, addressed as referencesIn finds references. */
export function declaredIn(stack: any): Set<string> {
  const named = (section: any, prefix: string) =>
    Object.entries<any>(section ?? {}).flatMap(([type, byName]) =>
      Object.keys(byName).map((name) => `${prefix}${type}.${name}`),
    );
  return new Set([
    ...named(stack.resource, ""),
    ...named(stack.data, "data."),
    ...Object.keys(stack.variable ?? {}).map((name) => `var.${name}`),
    ...Object.keys(stack.locals ?? {}).map((name) => `local.${name}`),
  ]);
}

/** Every string in a value, at any depth, with its JSON path. */
export function stringsIn(value: unknown, path = "$"): { path: string; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsIn(item, `${path}[${index}]`));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${path}.${key}`));
  return [];
}

export function resourceGraph(stack: any): Map<string, ResourceNode> {
  const nodes = new Map<string, ResourceNode>();
  const addresses = new Set<string>();
  for (const [type, byName] of Object.entries<any>(stack.resource ?? {}))
    for (const name of Object.keys(byName)) addresses.add(`${type}.${name}`);
  for (const [type, byName] of Object.entries<any>(stack.resource ?? {})) {
    for (const [name, body] of Object.entries<any>(byName)) {
      const dependsOn = new Set<string>((body.depends_on ?? []) as string[]);
      for (const expression of expressionsIn({ ...body, depends_on: undefined })) {
        for (const match of expression.matchAll(/\b([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)/g)) {
          const address = `${match[1]}.${match[2]}`;
          if (addresses.has(address)) dependsOn.add(address);
        }
      }
      nodes.set(`${type}.${name}`, { address: `${type}.${name}`, type, body, dependsOn });
    }
  }
  return nodes;
}

/** Everything a resource depends on, directly or not. */
export function transitiveDependencies(graph: Map<string, ResourceNode>, address: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(address)?.dependsOn ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next)?.dependsOn ?? []));
  }
  return seen;
}

/** The value of a label on a Docker resource, from its `labels` blocks. */
export function labelOf(body: any, label: string): string | undefined {
  return (body.labels ?? []).find((entry: any) => entry.label === label)?.value;
}
