import { AgentSecrets, renderAgentConfig as render, renderAgentConfigFiles } from "../renderers";
import type { Lab } from "../topology";
import { articleInput, labOf, problemsOf, TEST_AGENT_SECRETS } from "./tools/helpers";

const SECRETS: AgentSecrets = TEST_AGENT_SECRETS;
const renderAgentConfig = (lab: Lab, node: string) => render(lab, node, SECRETS);
/** What the agent reads: its config dir's files, parsed and merged. */
const renderedConfig = (lab: Lab, node: string): Record<string, any> =>
  Object.values(renderAgentConfigFiles(lab, node, SECRETS)).reduce(
    (merged, text) => ({ ...merged, ...JSON.parse(text) }),
    {},
  );

describe("the Consul agent config", () => {
  const lab = labOf();

  it("renders a server exactly", () => {
    expect(renderedConfig(lab, "dev1001")).toEqual({
      node_name: "dev1001",
      datacenter: "dc1",
      domain: "consul",
      data_dir: "/consul/data",
      server: true,
      bootstrap_expect: 3,
      ui_config: { enabled: true },
      retry_join: ["10.0.1.1", "10.0.1.2", "10.0.1.3"],
      bind_addr: "10.0.1.1",
      advertise_addr: "10.0.1.1",
      client_addr: "127.0.0.1 10.0.1.1",
      addresses: { http: "127.0.0.1" },
      ports: { http: 8500, https: 8501, dns: 8600 },
      log_level: "INFO",
      disable_update_check: true,
      enable_local_script_checks: true,
      recursors: [],
      dns_config: { allow_stale: true, max_stale: "10s", node_ttl: "0s", service_ttl: { "*": "0s" } },
      services: [
        {
          id: "keepalived",
          name: "keepalived",
          tags: ["master"],
          port: 80,
          checks: [
            {
              id: "keepalived-http",
              name: "keepalived answers HTTP on port 80",
              http: "http://127.0.0.1:80/_health",
              interval: "10s",
              timeout: "2s",
            },
          ],
        },
      ],
      encrypt: "GOSSIP-KEY",
      encrypt_verify_incoming: true,
      encrypt_verify_outgoing: true,
      acl: {
        enabled: true,
        default_policy: "deny",
        down_policy: "extend-cache",
        tokens: {
          initial_management: "MANAGEMENT-TOKEN",
          agent: "NODE-TOKEN",
          config_file_service_registration: "NODE-TOKEN",
          dns: "DNS-TOKEN",
        },
      },
      tls: {
        defaults: {
          ca_file: "/consul/tls/ca.pem",
          cert_file: "/consul/tls/server.pem",
          key_file: "/consul/tls/server-key.pem",
          verify_incoming: true,
          verify_outgoing: true,
        },
        internal_rpc: { verify_server_hostname: true },
        https: { verify_incoming: false },
      },
      auto_encrypt: { allow_tls: true },
      connect: { enabled: true },
    });
  });

  it("renders a client exactly", () => {
    expect(renderedConfig(lab, "dev1004")).toEqual({
      node_name: "dev1004",
      datacenter: "dc1",
      domain: "consul",
      data_dir: "/consul/data",
      server: false,
      retry_join: ["10.0.1.1", "10.0.1.2", "10.0.1.3"],
      bind_addr: "10.0.1.4",
      advertise_addr: "10.0.1.4",
      client_addr: "127.0.0.1",
      addresses: { http: "127.0.0.1" },
      ports: { http: 8500, dns: 8600 },
      log_level: "INFO",
      disable_update_check: true,
      enable_local_script_checks: true,
      recursors: [],
      dns_config: { allow_stale: true, max_stale: "10s", node_ttl: "0s", service_ttl: { "*": "0s" } },
      services: [
        {
          id: "web",
          name: "test_hoge_dev_jp",
          tags: ["web"],
          port: 80,
          checks: [
            {
              id: "web-http",
              name: "test_hoge_dev_jp answers HTTP on port 80",
              http: "http://127.0.0.1:80/",
              interval: "10s",
              timeout: "2s",
            },
          ],
        },
      ],
      encrypt: "GOSSIP-KEY",
      encrypt_verify_incoming: true,
      encrypt_verify_outgoing: true,
      acl: {
        enabled: true,
        default_policy: "deny",
        down_policy: "extend-cache",
        tokens: { agent: "NODE-TOKEN", config_file_service_registration: "NODE-TOKEN", dns: "DNS-TOKEN" },
      },
      tls: {
        defaults: { ca_file: "/consul/tls/ca.pem", verify_outgoing: true },
        internal_rpc: { verify_server_hostname: true },
      },
      auto_encrypt: { tls: true },
    });
  });

  describe.each([
    ["the article's lab", () => labOf()],
    ["a lab publishing from its third server", () => labOf({ ...articleInput(), publish: { node: "dev1003" } })],
  ])("in secure mode (%s), on every node", (_name, labFor) => {
    const secureLab = labFor();
    it.each(secureLab.nodes.map((node) => [node.name, node.role]))(
      "%s (%s) encrypts RPC, checks that servers are servers, and keeps plain HTTP on its loopback",
      (nodeName, role) => {
        const config = renderedConfig(secureLab, nodeName);
        expect(config.tls.defaults).toMatchObject({ ca_file: "/consul/tls/ca.pem", verify_outgoing: true });
        expect(config.tls.internal_rpc).toEqual({ verify_server_hostname: true });
        expect(config.addresses).toEqual({ http: "127.0.0.1" });
        expect(config.encrypt_verify_incoming && config.encrypt_verify_outgoing).toBe(true);
        if (role === "server") {
          expect(config.tls.defaults).toMatchObject({ verify_incoming: true, cert_file: "/consul/tls/server.pem" });
          expect(config.ports.https).toBe(8501);
          expect(config.auto_encrypt).toEqual({ allow_tls: true });
        } else {
          // A client holds no certificate of the deploying machine's making: the servers sign one at its start.
          expect(config.tls.defaults.cert_file).toBeUndefined();
          expect(config.ports.https).toBeUndefined();
          expect(config.auto_encrypt).toEqual({ tls: true });
        }
        // Only the publishing node listens beyond its loopback (for the published ports); the others not at all.
        expect(config.client_addr).toBe(
          nodeName === secureLab.publishNode.name ? `127.0.0.1 ${secureLab.node(nodeName).address}` : "127.0.0.1",
        );
      },
    );
  });

  it("cannot render a secure config without its TLS: no input turns TLS off while security is secure", () => {
    expect(() => render(lab, "dev1001")).toThrow(/needs secrets in "secure" mode/);
    expect(problemsOf({ ...articleInput(), tls: false })).toEqual([
      `tls: unknown field "tls"; remove it or check its spelling`,
    ]);
  });

  it("serves the UI wherever something asks this agent for it: servers, the published API, the load balancers' vhost", () => {
    const input = articleInput();
    input.security = "none";
    input.nodes[1].role = "client";
    input.nodes[3].role = "server";
    input.publish = { node: "dev1006" };
    const open = labOf(input);
    const withUi = open.nodes.filter((node) => render(open, node.name).ui_config?.enabled).map((node) => node.name);
    // Servers dev1001, dev1003, dev1004; dev1002 a client load balancer; dev1006 the client that publishes. Not dev1005.
    expect(withUi).toEqual(["dev1001", "dev1002", "dev1003", "dev1004", "dev1006"]);
    expect(renderAgentConfig(labOf(), "dev1004").ui_config).toBeUndefined();
  });

  it("renders the article's open Consul without TLS, with HTTP where the published port arrives", () => {
    const open = labOf({ ...articleInput(), security: "none" });
    const server = render(open, "dev1001");
    expect(server.tls).toBeUndefined();
    expect(server.addresses).toBeUndefined();
    expect(server.client_addr).toBe("127.0.0.1 10.0.1.1");
    expect(server.ports).toEqual({ http: 8500, dns: 8600 });
  });

  it("watches the site's service on the load balancers, with the handler's arguments from the model", () => {
    for (const node of ["dev1002", "dev1003"]) {
      expect(renderAgentConfig(lab, node).watches).toEqual([
        {
          type: "service",
          service: "test_hoge_dev_jp",
          token: "WATCH-TOKEN",
          args: [
            "/bin/sh",
            "/consul/handlers/maintenance-flag.sh",
            "http://127.0.0.1:8500",
            "web/test.hoge.dev.jp/maintenance/key",
            "web",
            "sorry",
            "web/test.hoge.dev.jp/maintenance/instances",
          ],
        },
      ]);
    }
    expect(renderAgentConfig(lab, "dev1004").watches).toBeUndefined();
  });

  it("registers the sorry server under the site's service with its own tag", () => {
    expect(renderAgentConfig(lab, "dev1006").services).toEqual([
      expect.objectContaining({ id: "sorry", name: "test_hoge_dev_jp", tags: ["sorry"] }),
    ]);
  });

  it("sets bootstrap_expect to the number of servers", () => {
    const input = articleInput();
    input.nodes.forEach((node, index) => (node.role = index < 5 ? "server" : "client"));
    const five = labOf(input);
    expect(renderAgentConfig(five, "dev1002").bootstrap_expect).toBe(5);
    expect(renderAgentConfig(five, "dev1006").retry_join).toHaveLength(5);
  });

  it("renders tcp checks and custom paths", () => {
    const input = articleInput();
    input.services[0].check = { type: "tcp" };
    input.services[2].check = { path: "/healthz", interval: "5s", timeout: "1s" };
    const custom = labOf(input);
    expect(renderAgentConfig(custom, "dev1001").services[0].checks[0]).toEqual(
      expect.objectContaining({ tcp: "127.0.0.1:80", interval: "10s" }),
    );
    expect(renderAgentConfig(custom, "dev1005").services[0].checks[0]).toEqual(
      expect.objectContaining({ http: "http://127.0.0.1:80/healthz", interval: "5s", timeout: "1s" }),
    );
  });

  it("takes DNS settings and recursors from the topology", () => {
    const input = articleInput();
    input.consul = { recursors: ["192.0.2.53"], dns: { nodeTtl: "30s", serviceTtl: "5s" } };
    const config = renderAgentConfig(labOf(input), "dev1003");
    expect(config.recursors).toEqual(["192.0.2.53"]);
    expect(config.dns_config).toEqual({
      allow_stale: true,
      max_stale: "10s",
      node_ttl: "30s",
      service_ttl: { "*": "5s" },
    });
  });

  // Keys the article used that a modern Consul rejects, has removed, or that open the agent to remote code.
  const FORBIDDEN_KEYS = [
    "start_join",
    "start_join_wan",
    "ui_dir",
    "ui",
    "script",
    "handler",
    "tag",
    "enable_script_checks",
  ];

  function keysOf(value: unknown): string[] {
    if (Array.isArray(value)) return value.flatMap(keysOf);
    if (value && typeof value === "object")
      return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
    return [];
  }

  it.each(labOf().nodes.map((node) => node.name))("uses no removed or unsafe key on %s", (name) => {
    const keys = keysOf(renderedConfig(lab, name));
    expect(keys.filter((key) => FORBIDDEN_KEYS.includes(key))).toEqual([]);
  });

  it.each(labOf().nodes.map((node) => node.name))(
    "encrypts gossip and enables ACLs with default deny on %s",
    (name) => {
      const config = renderAgentConfig(lab, name);
      expect(config.encrypt).toBe("GOSSIP-KEY");
      expect(config.acl).toMatchObject({ enabled: true, default_policy: "deny" });
      expect(config.acl!.tokens.initial_management === undefined).toBe(lab.node(name).role === "client");
    },
  );

  it("keeps every secret-bearing setting out of agent.json, in secrets.json, which merges back to the whole", () => {
    const files = renderAgentConfigFiles(lab, "dev1002", SECRETS);
    expect(Object.keys(files)).toEqual(["/consul/config/agent.json", "/consul/config/secrets.json"]);
    const readable = JSON.parse(files["/consul/config/agent.json"]);
    const secret = JSON.parse(files["/consul/config/secrets.json"]);
    expect(files["/consul/config/agent.json"]).not.toMatch(/GOSSIP-KEY|MANAGEMENT-TOKEN|NODE-TOKEN|WATCH-TOKEN/);
    expect(Object.keys(secret)).toEqual([
      "watches",
      "encrypt",
      "encrypt_verify_incoming",
      "encrypt_verify_outgoing",
      "acl",
    ]);
    expect({ ...readable, ...secret }).toEqual(renderAgentConfig(lab, "dev1002"));
  });

  it("refuses to render a secure config without secrets", () => {
    expect(() => render(lab, "dev1001")).toThrow('the agent config of "dev1001" needs secrets in "secure" mode');
  });

  it('renders the article\'s open agent in security "none"', () => {
    const input = articleInput();
    input.security = "none";
    const open = render(labOf(input), "dev1002");
    expect(open.encrypt).toBeUndefined();
    expect(open.acl).toBeUndefined();
    expect(open.watches![0].token).toBeUndefined();
    expect(Object.keys(renderAgentConfigFiles(labOf(input), "dev1002"))).toEqual(["/consul/config/agent.json"]);
  });

  it("renders byte-identical text for the same topology", () => {
    expect(renderAgentConfigFiles(labOf(), "dev1002", SECRETS)).toEqual(
      renderAgentConfigFiles(labOf(), "dev1002", SECRETS),
    );
  });
});
