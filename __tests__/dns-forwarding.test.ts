import { DNSMASQ_PORT, renderAgentConfig, renderDnsmasqConf } from "../renderers";
import { articleInput, labOf, TEST_AGENT_SECRETS } from "./tools/helpers";
import { dig, dnsmasqTest, startDnsmasq } from "./tools/dnsmasq";
import { freeLoopbackPort } from "./tools/ports";

describe("the dnsmasq config", () => {
  const lab = labOf();
  const conf = renderDnsmasqConf(lab);

  it("passes dnsmasq --test", () => {
    const result = dnsmasqTest(conf);
    expect(result.output).toContain("syntax check OK");
    expect(result.ok).toBe(true);
  });

  it("forwards the Consul domain to the agent's DNS port on the address the agent listens on", () => {
    const agent = renderAgentConfig(lab, "dev1004", TEST_AGENT_SECRETS);
    expect(conf).toContain(`server=/consul/127.0.0.1#${agent.ports.dns}`);
    expect(agent.client_addr.split(" ")).toContain("127.0.0.1");
    const settings = conf.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(settings).toEqual([
      "listen-address=127.0.0.1",
      "bind-interfaces",
      "port=53",
      "no-resolv",
      "domain-needed",
      "server=/consul/127.0.0.1#8600",
      "cache-size=1000",
      "no-negcache",
    ]);
  });

  it("sends other names to Consul only when Consul has recursors", () => {
    expect(conf).not.toMatch(/^server=127\.0\.0\.1#8600$/m);
    const input = articleInput();
    input.consul = { recursors: ["192.0.2.53"], domain: "lab", ports: { dns: 8653 } };
    const recursing = renderDnsmasqConf(labOf(input));
    expect(recursing).toContain("server=/lab/127.0.0.1#8653\n");
    expect(recursing).toMatch(/^server=127\.0\.0\.1#8653$/m);
    expect(dnsmasqTest(recursing).ok).toBe(true);
  });

  it("takes its cache size from the topology", () => {
    const input = articleInput();
    input.dnsForwarder = { cacheSize: 0 };
    expect(renderDnsmasqConf(labOf(input))).toContain("cache-size=0\n");
  });
});

describe("forwarding through a real dnsmasq", () => {
  /** A second dnsmasq standing in for the agent's DNS interface, answering the article's lookups. */
  const consulStandIn = (port: number) =>
    [
      "listen-address=127.0.0.1",
      "bind-interfaces",
      `port=${port}`,
      "no-resolv",
      "no-hosts",
      "host-record=dev1001.node.consul,10.0.1.1",
      "host-record=keepalived.service.consul,10.0.1.1",
      "address=/nginx.service.consul/10.0.1.2",
      "host-record=lb.nginx.service.consul,10.0.1.3",
      "host-record=elsewhere.example,192.0.2.99",
    ].join("\n");

  async function forwarder(recursors: string[]) {
    const consulPort = await freeLoopbackPort();
    const forwarderPort = await freeLoopbackPort();
    const input = articleInput();
    input.consul = { recursors, ports: { dns: consulPort } };
    // Only the listening port moves off 53: everything else is exactly what a node runs.
    const conf = renderDnsmasqConf(labOf(input)).replace(`port=${DNSMASQ_PORT}`, `port=${forwarderPort}`);
    const consul = await startDnsmasq(consulStandIn(consulPort), consulPort);
    const node = await startDnsmasq(conf, forwarderPort);
    return { consul, node, forwarderPort, stop: () => Promise.all([node.stop(), consul.stop()]) };
  }

  it("answers .consul names from the agent and sends nothing else there", async () => {
    const lab = await forwarder([]);
    try {
      expect(dig(lab.forwarderPort, "dev1001.node.consul").answers).toEqual(["10.0.1.1"]);
      expect(dig(lab.forwarderPort, "keepalived.service.consul").answers).toEqual(["10.0.1.1"]);
      expect(dig(lab.forwarderPort, "lb.nginx.service.consul").answers).toEqual(["10.0.1.3"]);
      const outside = dig(lab.forwarderPort, "elsewhere.example");
      expect(outside.answers).toEqual([]);
      expect(outside.rcode).toBe("REFUSED");
      expect(lab.consul.queriedNames()).toEqual([
        "dev1001.node.consul",
        "keepalived.service.consul",
        "lb.nginx.service.consul",
      ]);
    } finally {
      await lab.stop();
    }
  });

  it("sends other names to the agent too when Consul has recursors", async () => {
    const lab = await forwarder(["192.0.2.53"]);
    try {
      expect(dig(lab.forwarderPort, "elsewhere.example").answers).toEqual(["192.0.2.99"]);
      expect(lab.consul.queriedNames()).toEqual(["elsewhere.example"]);
    } finally {
      await lab.stop();
    }
  });
});
