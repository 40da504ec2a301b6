/**
 * A lab over several Docker hosts (`hosts`, topology/placement.ts): where each node runs, and every way a hosts list
 * can be wrong, each named with its field.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { articleInput, labOf, problemsOf } from "./tools/helpers";

const threeHosts = () => ({
  ...articleInput(),
  hosts: [
    { name: "lab-a", endpoint: "ssh://ops@lab-a.example.test", manager: true },
    { name: "lab-b", endpoint: "tcp://lab-b.example.test:2376", certPath: "/etc/consul-lab/lab-b" },
    { name: "lab-c", context: "lab-c" },
  ] as any[],
});

const placementOf = (input: unknown) => {
  const lab = labOf(input);
  return Object.fromEntries(lab.nodes.map((node) => [node.name, lab.hostOf(node.name)?.name]));
};

describe("where a lab over several hosts runs its nodes", () => {
  it("gives each server a host of its own, then spreads the rest over the least loaded hosts", () => {
    expect(placementOf(threeHosts())).toEqual({
      dev1001: "lab-a",
      dev1002: "lab-b",
      dev1003: "lab-c",
      dev1004: "lab-a",
      dev1005: "lab-b",
      dev1006: "lab-c",
    });
  });

  it("keeps a node where it names its host, and spreads around it", () => {
    const input = threeHosts();
    input.nodes[3].host = "lab-c";
    input.nodes[0].host = "lab-c";
    // dev1001 on lab-c: the other servers take the hosts still free of one, in order; the rest the least loaded.
    expect(placementOf(input)).toEqual({
      dev1001: "lab-c",
      dev1002: "lab-a",
      dev1003: "lab-b",
      dev1004: "lab-c",
      dev1005: "lab-a",
      dev1006: "lab-b",
    });
  });

  it("says which hosts run more than one server when the topology places them together", () => {
    const input = threeHosts();
    input.nodes[0].host = "lab-a";
    input.nodes[1].host = "lab-a";
    expect(problemsOf(input)).toEqual([]);
    expect(labOf(input).hostsSharingServers).toEqual([{ host: "lab-a", servers: ["dev1001", "dev1002"] }]);
  });

  it("creates the overlay through the first manager, or through the first host when none is marked", () => {
    expect(labOf(threeHosts()).managerHost?.name).toBe("lab-a");
    const input = threeHosts();
    input.hosts[0].manager = false;
    input.hosts[2].manager = true;
    expect(labOf(input).managerHost?.name).toBe("lab-c");
    for (const host of input.hosts) delete host.manager;
    expect(labOf(input).managerHost?.name).toBe("lab-a");
  });

  it("keeps Swarm's own addresses in the subnet's top quarter, or the range the topology gives, whatever the nodes", () => {
    expect(labOf(threeHosts()).swarmAddressRange).toBe("10.0.1.192/26");
    const input = threeHosts();
    input.nodes.push({ name: "dev1007", address: "10.0.1.150", role: "client" });
    expect(labOf(input).swarmAddressRange).toBe("10.0.1.192/26");
    input.network = { subnet: "10.0.1.0/24", swarmRange: "10.0.1.240/28" };
    expect(labOf(input).swarmAddressRange).toBe("10.0.1.240/28");
    expect(labOf(articleInput()).swarmAddressRange).toBeUndefined();
  });

  it("refuses a Swarm range on a lab on one host", () => {
    expect(problemsOf({ ...articleInput(), network: { subnet: "10.0.1.0/24", swarmRange: "10.0.1.192/26" } })).toEqual([
      "network.swarmRange: only a lab over several hosts (a hosts list) has a Swarm range; leave it out",
    ]);
  });

  it("says nothing of placement when host names are duplicated, which is the problem to fix first", () => {
    const input = threeHosts();
    input.hosts[2].name = "lab-a";
    expect(problemsOf(input).filter((problem) => problem.startsWith("hosts:"))).toEqual([]);
  });

  it("has no hosts, placement or manager on one host", () => {
    const lab = labOf(articleInput());
    expect([lab.multiHost, lab.hosts, lab.hostOf("dev1001"), lab.managerHost]).toEqual([
      false,
      [],
      undefined,
      undefined,
    ]);
  });

  it("places examples/three-hosts.yaml's servers on three hosts", () => {
    const lab = labOf(parse(readFileSync("examples/three-hosts.yaml", "utf8")));
    expect(lab.servers.map((server) => lab.hostOf(server.name)!.name)).toEqual(["lab-a", "lab-b", "lab-c"]);
  });
});

describe("a hosts list is refused, with the field and the fix, when", () => {
  const cases: [string, (input: ReturnType<typeof threeHosts>) => void, string][] = [
    [
      "it has fewer hosts than servers for the default spread",
      (input) => input.hosts.pop(),
      "hosts: every host already runs a server, and none is left for dev1003: add hosts, or name those servers' host yourself to let servers share one (losing that host then loses all of its votes)",
    ],
    [
      "it lists one host",
      (input) => input.hosts.splice(1),
      "hosts: hosts lists at least two hosts; for one host leave hosts out and point DOCKER_HOST or a Docker context at it",
    ],
    [
      "two hosts share a name",
      (input) => (input.hosts[2].name = "lab-a"),
      'hosts[2].name: duplicate "lab-a" (also hosts[0]); every host needs its own name',
    ],
    [
      "a host name cannot be a provider alias",
      (input) => (input.hosts[1].name = "2nd"),
      "hosts[1].name: host name must be 1-32 lowercase letters, digits or '-', starting with a letter (it becomes a Terraform provider alias)",
    ],
    [
      "a host has both an endpoint and a context",
      (input) => (input.hosts[0].context = "lab-a"),
      'hosts[0]: "lab-a" needs exactly one of endpoint (ssh://user@host or tcp://host:2376) and context (a Docker context name)',
    ],
    [
      "a host has neither",
      (input) => delete input.hosts[2].context,
      'hosts[2]: "lab-c" needs exactly one of endpoint (ssh://user@host or tcp://host:2376) and context (a Docker context name)',
    ],
    [
      "an endpoint is neither ssh:// nor tcp://",
      (input) => (input.hosts[0].endpoint = "http://lab-a:2375"),
      'hosts[0].endpoint: endpoint must be "ssh://[user@]host[:port]" or "tcp://host:port" (a TLS-protected engine, with certPath), with a port of 1-65535',
    ],
    [
      "a tcp:// endpoint has no TLS files",
      (input) => delete input.hosts[1].certPath,
      'hosts[1].certPath: "lab-b" is reached over tcp://, which must be TLS-protected (an open engine port gives root on the host): give the folder of its client ca.pem, cert.pem and key.pem, or use ssh://',
    ],
    [
      "TLS files come with an ssh:// endpoint",
      (input) => (input.hosts[0].certPath = "/etc/tls"),
      "hosts[0].certPath: only a tcp:// endpoint takes certPath; ssh:// and a context bring their own credentials",
    ],
    [
      "the TLS folder is relative",
      (input) => (input.hosts[1].certPath = "tls/lab-b"),
      'hosts[1].certPath: "tls/lab-b" must be an absolute path: Terraform reads it from the stack\'s own folder, not from where you run the CLI',
    ],
    [
      "the subnet's top quarter has no room for one Swarm address per host",
      (input) => {
        input.network = { subnet: "10.0.1.0/28" };
        input.nodes.forEach((node: { address: string }, index: number) => (node.address = `10.0.1.${index + 1}`));
      },
      "network.subnet: Swarm's range 10.0.1.12/30 has room for 2 of its own addresses, and 3 hosts need one each: use a larger subnet, or set network.swarmRange",
    ],
    [
      "a node's address lies in Swarm's range",
      (input) => (input.nodes[5].address = "10.0.1.200"),
      "nodes[5].address: 10.0.1.200 lies in 10.0.1.192/26, where Swarm takes its own addresses on a lab over several hosts (one per host, for the overlay's endpoint there); choose an address outside it, or set network.swarmRange",
    ],
    [
      "the Swarm range given is not a block of the subnet",
      (input) => (input.network = { subnet: "10.0.1.0/24", swarmRange: "10.0.2.0/26" }),
      "network.swarmRange: 10.0.2.0/26 must be a block inside 10.0.1.0/24, written with its first address (such as 10.0.1.192/26)",
    ],
    [
      "the publish node runs on a host reached over tcp://",
      (input) => {
        input.hosts[0] = { name: "lab-a", endpoint: "tcp://lab-a.example.test:2376", certPath: "/etc/tls/a" };
      },
      'publish.node: dev1001 runs on lab-a, reached over tcp://: it publishes on that host\'s loopback, which this machine reaches only through ssh forwards; put the publish node on a host reached over ssh://, or (security "secure" only) publish on an address of that host with publish.exposeOnNetwork',
    ],
    [
      "an ssh port is out of range",
      (input) => (input.hosts[0].endpoint = "ssh://ops@lab-a:99999"),
      'hosts[0].endpoint: endpoint must be "ssh://[user@]host[:port]" or "tcp://host:port" (a TLS-protected engine, with certPath), with a port of 1-65535',
    ],
    [
      "a node takes a name the cluster's own objects use",
      (input) => {
        input.nodes[5].name = "leader";
        input.services[3].nodes = ["leader"];
      },
      'nodes[5].name: "leader" is a name the cluster gives its own Terraform objects (consul-image, nginx-image, alpine-image, load-balancer-image, dnsmasq-image, network, leader, acl-bootstrap), beside which each node\'s objects are named after it; choose another',
    ],
    [
      "a node names an unknown host",
      (input) => (input.nodes[4].host = "lab-z"),
      'nodes[4].host: "lab-z" is not a host of hosts (lab-a, lab-b, lab-c)',
    ],
  ];
  it.each(cases)("%s", (_name, change, problem) => {
    const input = threeHosts();
    change(input);
    expect(problemsOf(input)).toContain(problem);
  });

  it("a node names a host in a lab without hosts", () => {
    const input = articleInput();
    input.nodes[0].host = "lab-a";
    expect(problemsOf(input)).toEqual([
      'nodes[0].host: "lab-a" names a host, but the topology has no hosts list; add hosts, or leave host out',
    ]);
  });
});

describe("engines, parsed and compared as Docker reaches them", () => {
  it.each([
    [
      "ssh://ops@-lab.example.test",
      '"-lab.example.test" in "ssh://ops@-lab.example.test" is not a host Docker can reach',
    ],
    ["ssh://...", '"..." in "ssh://..." is not a host Docker can reach'],
    ["ssh://[1::2::3]", '"[1::2::3]" in "ssh://[1::2::3]" is not a host Docker can reach'],
  ])("refuses the endpoint %s", (endpoint, problem) => {
    const input = threeHosts();
    input.hosts[0].endpoint = endpoint;
    expect(problemsOf(input)).toContainEqual(expect.stringContaining(`hosts[0].endpoint: ${problem}`));
  });

  it("reads a bracketed IPv6 address", () => {
    const input = threeHosts();
    input.hosts[0].endpoint = "ssh://ops@[2001:db8::1]:2222";
    expect(problemsOf(input)).toEqual([]);
  });

  it.each([
    ["ssh://ops@lab-a.example.test:22", "the default ssh port written out"],
    ["ssh://root@LAB-A.example.test.", "another user, the host in capitals with a trailing dot"],
  ])("refuses %s beside ssh://ops@lab-a.example.test: one engine listed twice (%s)", (endpoint) => {
    const input = threeHosts();
    input.hosts.push({ name: "lab-d", endpoint });
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(
        /^hosts\[3\]: "lab-d" is the same engine as hosts\[0\] \("lab-a": ssh:\/\/ops@lab-a\.example\.test\)/,
      ),
    );
  });

  it("refuses one context listed twice", () => {
    const input = threeHosts();
    input.hosts.push({ name: "lab-d", context: "lab-c" });
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(/^hosts\[3\]: "lab-d" is the same engine as hosts\[2\]/),
    );
  });
});
