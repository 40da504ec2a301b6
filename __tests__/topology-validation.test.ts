import { ARTICLE_TOPOLOGY, parseTopology } from "../topology";
import { generatedTopology } from "./tools/generated-topology";
import { articleInput, problemsOf } from "./tools/helpers";

describe("the article's topology", () => {
  it("is valid", () => {
    expect(problemsOf(ARTICLE_TOPOLOGY)).toEqual([]);
  });

  it("applies the documented defaults", () => {
    const topology = parseTopology(ARTICLE_TOPOLOGY);
    expect(topology.datacenter).toBe("dc1");
    expect(topology.consul.dns).toEqual({ allowStale: true, maxStale: "10s", nodeTtl: "0s", serviceTtl: "0s" });
    expect(topology.consul.recursors).toEqual([]);
    expect(topology.publish).toMatchObject({ address: "127.0.0.1", httpPort: 8500, dnsPort: 8600 });
    expect(topology.services.every((service) => service.check.interval === "10s")).toBe(true);
    expect(topology.site.maintenanceKey).toBe("web/test.hoge.dev.jp/maintenance/key");
  });

  it("fixes the article's copy-paste bugs", () => {
    const topology = parseTopology(ARTICLE_TOPOLOGY);
    const names = topology.nodes.map((node) => node.name);
    expect(new Set(names).size).toBe(names.length);
    const sorry = topology.services.find((service) => service.nodes.includes("dev1006"))!;
    expect(sorry).toMatchObject({ name: "test_hoge_dev_jp", tags: ["sorry"] });
  });
});

describe("topology validation", () => {
  it("reports a duplicate node name with both positions", () => {
    const input = articleInput();
    input.nodes[4].name = "dev1004";
    input.services[2].nodes = ["dev1004"];
    expect(problemsOf(input)).toContain(
      'nodes[4].name: duplicate "dev1004" (also nodes[3]); every node needs its own name',
    );
  });

  it("reports a duplicate address", () => {
    const input = articleInput();
    input.nodes[5].address = "10.0.1.5";
    expect(problemsOf(input)).toContain(
      'nodes[5].address: duplicate "10.0.1.5" (also nodes[4].name "dev1005"); give each node its own address',
    );
  });

  it("reports an address outside the subnet", () => {
    const input = articleInput();
    input.nodes[3].address = "10.0.2.4";
    expect(problemsOf(input)).toContain(
      'nodes[3].address: "10.0.2.4" is not a usable address in network.subnet "10.0.1.0/24"; pick one inside it',
    );
  });

  it("reports the network and broadcast addresses as unusable", () => {
    const input = articleInput();
    input.nodes[3].address = "10.0.1.0";
    input.nodes[4].address = "10.0.1.255";
    const problems = problemsOf(input);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes\[3\]\.address: "10\.0\.1\.0" is not a usable/),
        expect.stringMatching(/^nodes\[4\]\.address: "10\.0\.1\.255" is not a usable/),
      ]),
    );
  });

  it("reports a node on the gateway's address", () => {
    const input = articleInput();
    input.network = { subnet: "10.0.1.0/24", gateway: "10.0.1.6" };
    expect(problemsOf(input)).toContain(
      'nodes[5].address: "10.0.1.6" is the network\'s gateway; pick another address or set network.gateway to a free one',
    );
  });

  it("reports a subnet written as a host address", () => {
    const input = articleInput();
    input.network = { subnet: "10.0.1.7/24" };
    expect(problemsOf(input)).toContain(
      'network.subnet: "10.0.1.7/24" is a host address; write the network address "10.0.1.0/24"',
    );
  });

  it.each([
    [1, "1 server(s) found"],
    [2, "2 server(s) found"],
    [4, "4 server(s) found"],
  ])("rejects %i servers and explains quorum", (servers, start) => {
    const input = articleInput();
    input.nodes.forEach((node, index) => (node.role = index < servers ? "server" : "client"));
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(`nodes: ${start}; use an odd number of at least 3`)).toBe(true);
    expect(problems[0]).toContain("quorum");
  });

  it.each([6, 60, 600])("accepts the benchmark's generated %i-node lab", (nodes) => {
    expect(problemsOf(generatedTopology(nodes))).toEqual([]);
  });

  it("accepts five servers", () => {
    const input = articleInput();
    input.nodes.forEach((node, index) => (node.role = index < 5 ? "server" : "client"));
    expect(problemsOf(input)).toEqual([]);
  });

  it("rejects a '.' in a service name, as the article warns", () => {
    const input = articleInput();
    input.services[2].name = "test.hoge.dev.jp";
    expect(problemsOf(input)).toContain(
      "services[2].name: service name \"test.hoge.dev.jp\" contains '.', which Consul does not allow (DNS uses '.' between tag, service and domain); use '_' or '-' instead",
    );
  });

  it("rejects a tag Consul would not accept", () => {
    const input = articleInput();
    input.services[1].tags = ["lb", "a b"];
    expect(problemsOf(input)).toContain(
      "services[1].tags[1]: tag \"a b\" is not a valid Consul name: use 1-63 letters, digits, '_' or '-', starting with a letter or digit",
    );
  });

  it("points the article's `tag` at `tags`", () => {
    const input = articleInput();
    input.services[0].tag = "master";
    expect(problemsOf(input)).toContain('services[0].tag: unknown field "tag"; did you mean "tags"?');
  });

  it("reports a service on an unknown node", () => {
    const input = articleInput();
    input.services[2].nodes = ["dev1004", "dev1009"];
    expect(problemsOf(input)).toContain(
      'services[2].nodes[1]: unknown node "dev1009"; known nodes: dev1001, dev1002, dev1003, dev1004, dev1005, dev1006',
    );
  });

  it.each([0, 65536, 80.5])("rejects port %p", (port) => {
    const input = articleInput();
    input.services[0].port = port;
    expect(problemsOf(input)).toEqual([expect.stringMatching(/^services\[0\]\.port: port must be/)]);
  });

  it("rejects a service on one of Consul's own ports", () => {
    const input = articleInput();
    input.services[0].port = 8500;
    expect(problemsOf(input)).toContain(
      `services[0].port: 8500 collides in the pod of dev1001 with Consul's HTTP API (tcp on 127.0.0.1): the node's nginx for "keepalived" (entry) (tcp on 0.0.0.0) would bind the same port, and two processes of a pod cannot; choose another`,
    );
  });

  it("rejects two instances with the same ID on one node", () => {
    const input = articleInput();
    input.services.push({ name: "metrics", id: "web", port: 9100, nodes: ["dev1004"] });
    expect(problemsOf(input)).toContain(
      'services[4].id: instance ID "web" is already registered on node "dev1004" by services[2]; set a distinct "id"',
    );
  });

  it("rejects the article's sorry server tagged as an app server", () => {
    const input = articleInput();
    input.services[3].tags = ["web", "sorry"];
    expect(problemsOf(input)).toContain(
      'services[3].tags: carries both "web" and "sorry"; an instance is an app server or the sorry server, not both',
    );
  });

  it("requires a sorry server to fall back to", () => {
    const input = articleInput();
    input.services.pop();
    expect(problemsOf(input)).toContain(
      'services: no instance of "test_hoge_dev_jp" is tagged "sorry"; the site needs a sorry server to fall back to',
    );
  });

  it("rejects a node that would run two workloads", () => {
    const input = articleInput();
    input.services[3].nodes = ["dev1005"];
    expect(problemsOf(input)).toContain(
      'services[3].nodes: node "dev1005" would be both app and sorry; a node runs one workload, so move one of them to another node',
    );
  });

  it("rejects a check timeout that is not shorter than its interval", () => {
    const input = articleInput();
    input.services[0].check = { interval: "5s", timeout: "5s" };
    expect(problemsOf(input)).toContain('services[0].check.timeout: "5s" must be shorter than check.interval "5s"');
  });

  it("rejects a malformed duration", () => {
    const input = articleInput();
    input.services[0].check = { interval: "10 seconds" };
    expect(problemsOf(input)).toContain(
      'services[0].check.interval: must be a Go duration of at most 2562047h, such as "10s", "1.5s", "500ms" or "1m30s"',
    );
  });

  it("rejects an unpinned image", () => {
    const input = articleInput();
    input.images = { consul: "hashicorp/consul:latest" };
    expect(problemsOf(input)).toContain('images.consul: must pin a version: ":latest" makes deploys unrepeatable');
  });

  it.each(["registry.example:70000/consul:1.20", "registry.example:0/consul:1.20"])(
    "refuses an image whose registry port cannot exist: %s",
    (ref) => {
      const input = articleInput() as any;
      input.images = { consul: ref };
      expect(problemsOf(input)).toContain(
        "images.consul: the registry's port must be 1-65535, such as registry.example:5000/team/nginx:1.27",
      );
      input.images = { consul: ref.replace(/:\d+\//, ":5000/") };
      expect(problemsOf(input)).toEqual([]);
    },
  );

  it("refuses app servers and a sorry server on different ports: the instance list names one", () => {
    const input = articleInput();
    input.services.find((service: any) => service.tags.includes("sorry"))!.port = 8080;
    expect(problemsOf(input)).toContain(
      'site.service: the instances of "test_hoge_dev_jp" listen on different ports (80, 8080); give them one port',
    );
  });

  it("rejects a recursor that is not an address", () => {
    const input = articleInput();
    input.consul = { recursors: ["test1.example.com"] };
    expect(problemsOf(input)).toContain("consul.recursors[0]: must be an IPv4 address such as 10.0.1.4");
  });

  it.each([
    [{ ports: { dns: 70000 } }, "consul.ports.dns: port must be 1-65535"],
    [{ ports: { dns: 8301 } }, "consul.ports.dns: 8301 is taken by Consul's RPC and gossip (8300-8302)"],
    [{ ports: { dns: 8500 } }, "consul.ports.dns: must differ from consul.ports.http (8500)"],
    [
      { dns: { nodeTtl: "30 s" } },
      'consul.dns.nodeTtl: must be a Go duration of at most 2562047h, such as "10s", "1.5s", "500ms" or "1m30s"',
    ],
    [
      { dns: { serviceTtl: "-5s" } },
      'consul.dns.serviceTtl: must be a Go duration of at most 2562047h, such as "10s", "1.5s", "500ms" or "1m30s"',
    ],
    [
      { dns: { maxStale: "0s" } },
      'consul.dns.maxStale: "0s" disables stale reads; set a positive duration or allowStale: false',
    ],
    [{ recursors: ["8.8.8.8", "dns.google"] }, "consul.recursors[1]: must be an IPv4 address such as 10.0.1.4"],
    [{ domain: "consul.local" }, "consul.domain: domain must be one lowercase DNS label, such as consul"],
  ])("rejects the DNS setting %j", (consul, problem) => {
    const input = articleInput();
    input.consul = consul as any;
    expect(problemsOf(input)).toContain(problem);
  });

  it("rejects a dnsmasq cache size out of range", () => {
    const input = articleInput();
    input.dnsForwarder = { cacheSize: 20000 };
    expect(problemsOf(input)).toContain("dnsForwarder.cacheSize: cacheSize must be 0-10000");
  });

  it("rejects an entry point on more than one node", () => {
    const input = articleInput();
    input.services[0].nodes = ["dev1001", "dev1002"];
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([
        'services[0].nodes: the entry point "keepalived" runs on 2 nodes; it owns the one published entry port, so run it on exactly one',
      ]),
    );
  });

  it("rejects a quiescence wait whose max is below its min", () => {
    const input = articleInput();
    input.consulTemplate = { wait: { min: "30s", max: "10s" } };
    expect(problemsOf(input)).toContain(
      'consulTemplate.wait.max: "10s" must not be shorter than consulTemplate.wait.min "30s"',
    );
  });

  it("rejects a missing site role", () => {
    const input = articleInput();
    input.services.splice(1, 1);
    expect(problemsOf(input)).toContain(
      'site.loadBalancerService: no service named "nginx" in services; add the load balancers or change site.loadBalancerService',
    );
  });

  it("names a missing required field", () => {
    const input = articleInput();
    delete input.nodes[2].address;
    expect(problemsOf(input)).toContain("nodes[2].address: required (expected string)");
  });

  it("reports every problem at once", () => {
    const input = articleInput();
    input.nodes[4].name = "dev1004";
    input.nodes[5].address = "10.0.9.6";
    input.services[0].nodes = ["nowhere"];
    expect(problemsOf(input).length).toBeGreaterThanOrEqual(3);
  });
});

describe("the maintenance keys", () => {
  it.each([
    ["maintenance", /needs a folder .*would let it read every key/],
    ["web/./maintenance/key", /has a "\." or "\.\." segment/],
    ["web/../key", /has a "\." or "\.\." segment/],
    ["web/site/maintenance/operator", /ends in "operator", the name of the operator's switch/],
    ["web/site/maintenance/instances", /ends in "instances", the name of the site's instance list/],
  ])("refuses the flag %s", (key, message) => {
    const input = articleInput();
    input.site = { maintenanceKey: key };
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^site\\.maintenanceKey: .*${message.source}`))]),
    );
  });

  it("refuses a KV entry with a dot segment, whose write Consul's API would redirect away", () => {
    const input = articleInput();
    (input as any).kv = { "web/../maintenance/key": "on" };
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^kv\["web\/\.\.\/maintenance\/key"\]: has a "\." or "\.\." segment/),
      ]),
    );
  });

  it("refuses a Terraform-managed KV entry for the operator's switch", () => {
    const input = articleInput();
    (input as any).kv = { "web/test.hoge.dev.jp/maintenance/operator": "on" };
    expect(problemsOf(input)).toContain(
      'kv["web/test.hoge.dev.jp/maintenance/operator"]: would let Terraform manage the operator\'s maintenance switch "web/test.hoge.dev.jp/maintenance/operator"; use another key',
    );
  });
});

describe("what publish.address exposes", () => {
  const problemsWith = (publish: Record<string, unknown>) => {
    const input = articleInput();
    input.publish = publish;
    return problemsOf(input).filter((problem) => problem.startsWith("publish.address"));
  };

  it("accepts loopback, 127.0.0.1 or any other 127/8 address", () => {
    expect(problemsWith({ address: "127.0.0.1" })).toEqual([]);
    expect(problemsWith({ address: "127.0.0.2" })).toEqual([]);
  });

  it.each(["0.0.0.0", "192.168.1.10"])(
    "refuses %s unless exposeOnNetwork says so, naming what becomes reachable",
    (address) => {
      expect(problemsWith({ address })).toEqual([
        `publish.address: ${address} publishes the lab beyond this machine: Consul's API and UI on port 8500, Consul DNS on 8600, and the site's entry on 8080 (whose Consul UI vhost redirects to the HTTPS API), to anyone who can reach this address (the API over HTTPS, behind ACLs; DNS and the entry in the clear). Use 127.0.0.1, or set publish.exposeOnNetwork: true if you mean it`,
      ]);
      expect(problemsWith({ address, exposeOnNetwork: true })).toEqual([]);
    },
  );

  it.each(["0.0.0.0", "192.168.1.10"])(
    "refuses %s for a lab without TLS and ACLs, even exposed on purpose",
    (address) => {
      const input = articleInput();
      input.security = "none";
      input.publish = { address, exposeOnNetwork: true };
      expect(problemsOf(input)).toEqual([
        expect.stringMatching(
          new RegExp(`^publish.address: ${address} would publish the lab beyond this machine with no TLS and no ACLs`),
        ),
      ]);
    },
  );

  it("refuses a client as the publishing node of a secure lab: the HTTPS API needs a server's certificate", () => {
    const input = articleInput();
    input.publish = { node: "dev1004" };
    expect(problemsOf(input)).toEqual([
      'publish.node: "dev1004" is a client; in "secure" mode the API is published over HTTPS by a server, whose certificate the lab\'s CA signed (clients have none); name a server',
    ]);
    input.security = "none";
    expect(problemsOf(input)).toEqual([]);
  });

  it.each([
    ["10.0.1.50", "inside the lab's subnet 10.0.1.0/24"],
    ["10.0.1.255", "inside the lab's subnet 10.0.1.0/24"],
    ["255.255.255.255", "a multicast or broadcast address"],
    ["239.1.1.1", "a multicast or broadcast address"],
  ])("refuses %s even when exposed on purpose: %s", (address, why) => {
    expect(problemsWith({ address, exposeOnNetwork: true })).toEqual([expect.stringContaining(why)]);
  });
});

describe("names that pass their pattern but collide", () => {
  it.each(["bridge", "host", "none"])("refuses a lab named %s, one of Docker's built-in networks", (name) => {
    expect(problemsOf({ ...articleInput(), name })).toEqual([
      expect.stringMatching(new RegExp(`^name: "${name}" is one of Docker's built-in networks`)),
    ]);
  });

  it.each(["dev1004-net", "dev1004-dns", "dev1004-app", "dev1002-load-balancer"])(
    "refuses a node named %s, whose agent container would take another node's container name",
    (name) => {
      const input = articleInput();
      input.nodes.push({ name, address: "10.0.1.20", role: "client" });
      expect(problemsOf(input)).toContain(
        `nodes[6].name: "${name}" would name its agent's container like the "${name.split("-").slice(1).join("-")}" container of node "${name.split("-")[0]}" (consul-lab-${name}); choose a name that is not another node's name plus -${name.split("-").slice(1).join("-")}`,
      );
    },
  );

  it("refuses a service named consul", () => {
    const input = articleInput();
    input.services[0].name = "consul";
    expect(problemsOf(input)).toContain(
      'services[0].name: "consul" is the service every Consul server registers itself as; choose another',
    );
  });

  it("refuses an external service registered as one of the site's own services", () => {
    const input = articleInput();
    (input as any).externalServices = [
      { node: "rogue", address: "10.0.1.100", service: "test_hoge_dev_jp", tags: ["web"] },
    ];
    expect(problemsOf(input)).toContain(
      'externalServices[0].service: "test_hoge_dev_jp" is a service of the site the lab runs itself; an external instance of it would join its load balancing',
    );
  });

  it("refuses a Consul UI hostname equal to the site's", () => {
    const input = articleInput();
    input.site = { hostname: "test.hoge.dev.jp", consulUiHostname: "TEST.hoge.dev.jp" };
    expect(problemsOf(input)).toEqual([
      expect.stringMatching(/^site\.consulUiHostname: "TEST\.hoge\.dev\.jp" is also site\.hostname/),
    ]);
  });
});

describe("the lab network and the recursors", () => {
  const relocated = (subnet: string, prefix: string) => {
    const input = articleInput();
    input.network = { subnet };
    for (const node of input.nodes) node.address = node.address.replace(/^10\.0\.1\./, prefix);
    (input as any).externalServices = [];
    return input;
  };

  it.each([
    ["127.1.0.0/24", "127.1.0."],
    ["169.254.5.0/24", "169.254.5."],
    ["100.64.1.0/24", "100.64.1."],
    ["8.8.8.0/24", "8.8.8."],
  ])("refuses %s, outside the private ranges", (subnet, prefix) => {
    expect(problemsOf(relocated(subnet, prefix))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^network\\.subnet: "${subnet.replace(/\./g, "\\.")}" is not inside a private range`),
        ),
      ]),
    );
  });

  it.each([
    ["172.20.0.0/24", "172.20.0."],
    ["192.168.7.0/24", "192.168.7."],
  ])("accepts %s", (subnet, prefix) => {
    expect(problemsOf(relocated(subnet, prefix)).filter((problem) => problem.startsWith("network.subnet"))).toEqual([]);
  });

  it.each(["127.0.0.1", "10.0.1.4"])("refuses the recursor %s, which is a node itself: a DNS loop", (recursor) => {
    const input = articleInput();
    input.consul = { recursors: [recursor] };
    expect(problemsOf(input)).toEqual([
      expect.stringMatching(
        new RegExp(`^consul\\.recursors\\[0\\]: ${recursor.replace(/\./g, "\\.")} is a lab node itself`),
      ),
    ]);
  });
});
