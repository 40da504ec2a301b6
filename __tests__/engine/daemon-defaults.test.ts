/**
 * The read-back table (constructs/engine-read-back.ts) against a real engine that runs with daemon defaults many hosts
 * set (dockerd.sh: a log size cap and a default nofile ulimit): what `docker inspect` shows of a container created
 * with exactly the synthesized settings, attribute by attribute, where the provider reads it from.
 */
import { CONTAINER_READ_BACK, ENGINE_CHANGED_ATTRIBUTES } from "../../constructs/engine-read-back";
import { deployContainers, dockerOk, engineApi, inspect, removeLab, synthesizedCluster, uniqueLab } from "./engine";

let lab: Awaited<ReturnType<typeof uniqueLab>>;
let cluster: ReturnType<typeof synthesizedCluster>;

beforeAll(async () => {
  lab = await uniqueLab();
  cluster = synthesizedCluster(lab.topologyFile);
  deployContainers(cluster, ["dev1001"]);
});

afterAll(() => removeLab(lab.name));

const synthesized = (name: string) => Object.values<any>(cluster.container).find((body) => body.name === name);

/**
 * Where provider v3.6.2's Read takes each attribute the engine can show (resource_docker_container_funcs.go), as the
 * provider would write it back.
 */
const READ_FROM: Record<string, (inspected: any) => any> = {
  log_opts: (c) => c.HostConfig.LogConfig.Config ?? {},
  ulimit: (c) => c.HostConfig.Ulimits ?? [],
  ports: (c) =>
    Object.entries<any[]>(c.NetworkSettings.Ports ?? {}).flatMap(([port, bindings]) =>
      (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${port}`),
    ),
  hostname: (c) => c.Config.Hostname,
  domainname: (c) => c.Config.Domainname,
  dns: (c) => c.HostConfig.Dns ?? [],
  dns_opts: (c) => c.HostConfig.DnsOptions ?? [],
  dns_search: (c) => c.HostConfig.DnsSearch ?? [],
  name: (c) => c.Name.replace(/^\//, ""),
  capabilities: (c) =>
    (c.HostConfig.CapAdd?.length ?? 0) + (c.HostConfig.CapDrop?.length ?? 0) > 0
      ? { add: [...(c.HostConfig.CapAdd ?? [])].sort(), drop: [...(c.HostConfig.CapDrop ?? [])].sort() }
      : undefined,
  security_opts: (c) => [...(c.HostConfig.SecurityOpt ?? [])].sort(),
  read_only: (c) => c.HostConfig.ReadonlyRootfs,
  memory: (c) => c.HostConfig.Memory / 1024 / 1024,
};

/** What the synthesized configuration says of the same attribute, in the same shape. */
const CONFIGURED: Record<string, (body: any) => any> = {
  log_opts: (body) => body.log_opts ?? {},
  ulimit: (body) => body.ulimit ?? [],
  ports: (body) => (body.ports ?? []).map((p: any) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`),
  hostname: (body) => body.hostname,
  domainname: (body) => body.domainname ?? "",
  dns: (body) => body.dns ?? [],
  dns_opts: (body) => body.dns_opts ?? [],
  dns_search: (body) => body.dns_search ?? [],
  name: (body) => body.name,
  capabilities: (body) =>
    body.capabilities
      ? { add: [...(body.capabilities.add ?? [])].sort(), drop: [...(body.capabilities.drop ?? [])].sort() }
      : undefined,
  security_opts: (body) => [...(body.security_opts ?? [])].sort(),
  read_only: (body) => body.read_only ?? false,
  memory: (body) => body.memory ?? 0,
};

describe("a container on an engine with daemon defaults", () => {
  const namespace = () => `${lab.name}-dev1001-net`;
  const agent = () => `${lab.name}-dev1001`;

  it("reads back the daemon's log options and ulimits, which the synthesized container never set", () => {
    const inspected = inspect(agent());
    expect(READ_FROM.log_opts(inspected)).toEqual(expect.objectContaining({ "max-size": "7m" }));
    expect(READ_FROM.ulimit(inspected)).toEqual([{ Name: "nofile", Soft: 4096, Hard: 8192 }]);
    expect(synthesized(agent()).log_opts).toBeUndefined();
    expect(ENGINE_CHANGED_ATTRIBUTES).toEqual(expect.arrayContaining(["log_opts", "ulimit"]));
  });

  it("reads back no ports of a stopped namespace, though it keeps their bindings", () => {
    const running = inspect(namespace());
    // In any order: the provider sorts them by internal port, and its diff suppression ignores the order.
    expect((READ_FROM.ports(running) as string[]).sort()).toEqual(CONFIGURED.ports(synthesized(namespace())).sort());
    dockerOk(["stop", "--time", "1", namespace()]);
    try {
      const stopped = inspect(namespace());
      expect(READ_FROM.ports(stopped)).toEqual([]);
      expect(Object.keys(stopped.HostConfig.PortBindings)).toHaveLength(
        CONFIGURED.ports(synthesized(namespace())).length,
      );
      expect(ENGINE_CHANGED_ATTRIBUTES).toContain("ports");
    } finally {
      dockerOk(["start", namespace()]);
    }
  });

  it("reads back every other attribute it shows exactly as the table says: as configured", () => {
    const differences: string[] = [];
    for (const name of [namespace(), agent(), `${lab.name}-dev1001-dns`]) {
      const inspected = inspect(name);
      const body = synthesized(name);
      for (const [attribute, read] of Object.entries(READ_FROM)) {
        const rule = CONTAINER_READ_BACK[attribute].rule;
        if (rule === "ignore") continue;
        // Computed from the namespace when a joined container leaves it unset.
        if (attribute === "hostname" && body.hostname === undefined) continue;
        const seen = JSON.stringify(read(inspected));
        const configured = JSON.stringify(CONFIGURED[attribute](body));
        if (seen !== configured) differences.push(`${name}.${attribute} (${rule}): ${configured} -> ${seen}`);
      }
    }
    expect(differences).toEqual([]);
  });
});

describe("the lab's network on a real engine", () => {
  it("reads back exactly its declared options and no IPv6, through the API the provider reads", async () => {
    const network = (await engineApi("GET", `/networks/${cluster.network.name}`)).json;
    expect({ ipv6: network.EnableIPv6, options: network.Options }).toEqual({
      ipv6: false,
      options: cluster.network.options,
    });
    expect(cluster.network.options).toEqual({ "com.docker.network.enable_ipv6": "false" });
  });
});
