import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Testing } from "cdktf";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConsulAgent,
  ConsulCluster,
  ConsulTemplateJob,
  AssetImage,
  ClusterSecurity,
  OPEN_CLUSTER,
  DnsForwarder,
  EntryPoint,
  LabNetwork,
  LoadBalancer,
  NodeNamespace,
  PageServer,
  terraformLiteral,
} from "../constructs";
import { NGINX_MAIN_CONF, renderNginxMainConf } from "../renderers";
import { dnsForwarderImageSpec, loadBalancerImageSpec } from "../shared/asset-images";
import type { Construct } from "constructs";
import type { Lab } from "../topology";
import {
  LOAD_BALANCER_PATHS,
  renderAgentConfigFiles,
  loadBalancerJob,
  renderConsulTemplateConfigJson,
  renderConsulUiVhost,
  renderDnsmasqConf,
  renderEntryPointConf,
  renderUpstreamTemplate,
  renderWorkloadSite,
} from "../renderers";
import { articleInput, labOf, TEST_SECURITY } from "./tools/helpers";

const lab = labOf();

/** A node's namespace, as the cluster creates it. */
function namespaceOf(scope: Construct, nodeName: string, topology: Lab = lab): NodeNamespace {
  return new NodeNamespace(scope, "namespace", { lab: topology, nodeName, image: "consul", networkName: "consul-lab" });
}

function resourcesOf(synthesized: string, type: string): Record<string, any>[] {
  return Object.values(JSON.parse(synthesized).resource?.[type] ?? {});
}

describe("LabNetwork", () => {
  it("creates a bridge with the topology's subnet and a gateway clear of the nodes", () => {
    const synthesized = Testing.synthScope((scope) => new LabNetwork(scope, "network", { lab }));
    expect(synthesized).toHaveResourceWithProperties(Network, {
      name: "consul-lab",
      driver: "bridge",
      ipam_config: [{ subnet: "10.0.1.0/24", gateway: "10.0.1.254" }],
    });
  });
});

describe("ConsulAgent", () => {
  const agentOn = (nodeName: string, topology = lab, waitForLeader = false) =>
    Testing.synthScope(
      (scope) =>
        new ConsulAgent(scope, "agent", {
          lab: topology,
          nodeName,
          image: "consul-image-id",
          namespace: namespaceOf(scope, nodeName, topology),
          security: TEST_SECURITY,
          waitForLeader,
        }),
    );
  const agentContainer = (synthesized: string) =>
    resourcesOf(synthesized, "docker_container").find((container) =>
      container.labels.some((label: any) => label.value === "agent"),
    )!;
  const namespaceContainer = (synthesized: string) =>
    resourcesOf(synthesized, "docker_container").find((container) =>
      container.labels.some((label: any) => label.value === "netns"),
    )!;

  it("runs the node's agent in the node's namespace with its rendered config", () => {
    expect(agentOn("dev1004", lab, true)).toHaveResourceWithProperties(Container, {
      name: "consul-lab-dev1004",
      image: "consul-image-id",
      command: ["agent"],
      restart: "unless-stopped",
      network_mode: expect.stringMatching(/^container:\$\{docker_container\.namespace_container_[0-9A-F]+\.id\}$/),
      upload: Object.entries(
        renderAgentConfigFiles(lab, "dev1004", {
          gossipKey: "GOSSIP-KEY",
          managementToken: "MANAGEMENT-TOKEN",
          nodeToken: "TOKEN-FOR-node-dev1004",
          maintenanceWatchToken: "TOKEN-FOR-maintenance-watch",
          dnsToken: "TOKEN-FOR-dns",
        }),
      )
        .map(([file, content]) => ({ file, content }))
        // The lab CA's certificate, as a reference into its variable; a client gets no certificate or key.
        .concat([{ file: "/consul/tls/ca.pem", content: "CA-CERT" }]),
      wait: true,
    });
  });

  it("gives a server its own certificate and key, and the CA's, from their variables", () => {
    expect(agentContainer(agentOn("dev1002")).upload.slice(2, 5)).toEqual([
      { file: "/consul/tls/ca.pem", content: "CA-CERT" },
      { file: "/consul/tls/server.pem", content: "CERT-OF-dev1002" },
      { file: "/consul/tls/server-key.pem", content: "KEY-OF-dev1002" },
    ]);
  });

  it("holds the node's address, hostname and resolver in its namespace, which does nothing else", () => {
    expect(namespaceContainer(agentOn("dev1004"))).toMatchObject({
      name: "consul-lab-dev1004-net",
      hostname: "dev1004",
      network_mode: "bridge",
      networks_advanced: [{ name: "consul-lab", ipv4_address: "10.0.1.4" }],
      restart: "unless-stopped",
      entrypoint: ["/bin/sh", "-c", expect.stringContaining("trap 'exit 0' TERM")],
    });
  });

  it("does not wait for a leader unless asked to", () => {
    expect(agentContainer(agentOn("dev1001")).wait).toBe(false);
  });

  it("keeps the agent's data in a named volume", () => {
    const synthesized = agentOn("dev1004");
    expect(synthesized).toHaveResourceWithProperties(Volume, { name: "consul-lab-dev1004-data" });
    expect(agentContainer(synthesized).volumes).toEqual([
      {
        volume_name: expect.stringMatching(/^\$\{docker_volume\.agent_data_[0-9A-F]+\.name\}$/),
        container_path: "/consul/data",
      },
    ]);
  });

  it("is healthy only once the cluster has a leader", () => {
    const container = agentContainer(agentOn("dev1002"));
    expect(container.healthcheck.test).toEqual([
      "CMD-SHELL",
      "wget -qO- http://127.0.0.1:8500/v1/status/leader | grep -q ':'",
    ]);
  });

  it("publishes the API (the server's HTTPS) and DNS on 127.0.0.1 from the publish node only", () => {
    const published = namespaceContainer(agentOn("dev1001"));
    expect(published.ports).toEqual([
      { internal: 8501, external: 8500, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8600, external: 8600, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8600, external: 8600, ip: "127.0.0.1", protocol: "udp" },
      { internal: 80, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(namespaceContainer(agentOn("dev1002")).ports ?? []).toEqual([]);
    expect(agentContainer(agentOn("dev1001")).ports).toBeUndefined();
  });

  it("resolves through the node's dnsmasq with the Consul search domains and musl's ndots", () => {
    expect(namespaceContainer(agentOn("dev1005"))).toMatchObject({
      dns: ["127.0.0.1"],
      dns_search: ["node.consul", "service.consul", "consul"],
      dns_opts: ["ndots:2"],
    });
  });

  it("publishes the site's entry on 127.0.0.1 from the entry node", () => {
    const entry = namespaceContainer(agentOn("dev1001"));
    expect(entry.ports).toContainEqual({ internal: 80, external: 8080, ip: "127.0.0.1", protocol: "tcp" });
  });

  it("places the maintenance handler, executable, on the load balancers' agents only", () => {
    const balancer = agentContainer(agentOn("dev1002"));
    expect(balancer.upload[5]).toEqual({
      file: "/consul/handlers/maintenance-flag.sh",
      content: terraformLiteral(
        readFileSync(join(__dirname, "..", "assets", "handlers", "maintenance-flag.sh"), "utf8"),
      ),
      executable: true,
    });
    // The token is a file readable inside the agent container; its environment names only the path.
    expect(balancer.upload[6]).toEqual({
      file: "/consul/handlers/maintenance-flag.token",
      content: "TOKEN-FOR-maintenance-watch",
      permissions: "0444",
    });
    expect(balancer.env).toEqual([
      "MAINTENANCE_FLAG_LOG=/consul/data/maintenance-flag.log",
      "MAINTENANCE_FLAG_TOKEN_FILE=/consul/handlers/maintenance-flag.token",
    ]);
    const app = agentContainer(agentOn("dev1004"));
    expect(app.upload.map((upload: { file: string }) => upload.file)).toEqual([
      "/consul/config/agent.json",
      "/consul/config/secrets.json",
      "/consul/tls/ca.pem",
    ]);
  });

  it("publishes from the node and ports the topology names", () => {
    const input = articleInput();
    input.publish = { node: "dev1003", httpPort: 18500, dnsPort: 18600 };
    const custom = labOf(input);
    const container = namespaceContainer(agentOn("dev1003", custom));
    expect(container.ports[0]).toEqual({ internal: 8501, external: 18500, ip: "127.0.0.1", protocol: "tcp" });
  });
});

describe("PageServer", () => {
  it("joins the node's namespace and serves the node's site", () => {
    const synthesized = Testing.synthScope((scope) => {
      const namespace = namespaceOf(scope, "dev1006");
      new PageServer(scope, "workload", { lab, nodeName: "dev1006", namespace, image: "nginx-image-id" });
    });
    const site = renderWorkloadSite(lab, "dev1006")!;
    expect(synthesized).toHaveResourceWithProperties(Container, {
      name: "consul-lab-dev1006-sorry",
      image: "nginx-image-id",
      network_mode: expect.stringMatching(/^container:\$\{docker_container\.namespace_container_[0-9A-F]+\.id\}$/),
      upload: [
        { file: NGINX_MAIN_CONF, content: renderNginxMainConf() },
        { file: "/etc/nginx/conf.d/default.conf", content: site.nginxConf },
        { file: "/usr/share/nginx/html/index.html", content: site.indexHtml },
      ],
    });
  });

  it("refuses a node that registers no service", () => {
    const input = articleInput();
    input.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    const bare = labOf(input);
    expect(() =>
      Testing.synthScope((scope) => {
        const namespace = namespaceOf(scope, "dev1007", bare);
        new PageServer(scope, "workload", { lab: bare, nodeName: "dev1007", namespace, image: "nginx" });
      }),
    ).toThrow('node "dev1007" registers no service, so it has no workload to run');
  });
});

describe("LoadBalancer", () => {
  const synthesized = Testing.synthScope((scope) => {
    const namespace = namespaceOf(scope, "dev1002");
    const image = new AssetImage(scope, "image", { lab, spec: loadBalancerImageSpec(lab) });
    new LoadBalancer(scope, "lb", {
      lab,
      nodeName: "dev1002",
      namespace,
      image: image.image.imageId,
      security: TEST_SECURITY,
    });
  });

  it("refers to its image, built from assets/load-balancer by the deploy, by tag without a provider build", () => {
    const [image] = resourcesOf(synthesized, "docker_image");
    expect(image.name).toMatch(/^consul-lab-load-balancer:[0-9a-f]{12}$/);
    expect(image.build).toBeUndefined();
    expect(image.keep_locally).toBe(false);
    expect(loadBalancerImageSpec(lab).buildArgs).toEqual({
      NGINX_IMAGE: "nginx:1.27-alpine",
      CONSUL_TEMPLATE_IMAGE: "hashicorp/consul-template:0.43.0",
    });
  });

  it("renames the image when a base image changes, so Docker rebuilds it", () => {
    const input = articleInput();
    input.images = { nginx: "nginx:1.28-alpine" };
    const other = labOf(input);
    const tagOf = (topology: Lab) =>
      resourcesOf(
        Testing.synthScope(
          (scope) => new AssetImage(scope, "image", { lab: topology, spec: loadBalancerImageSpec(topology) }),
        ),
        "docker_image",
      )[0].name;
    expect(tagOf(other)).not.toBe(tagOf(lab));
  });

  it("runs consul-template with its rendered config, template and the Consul UI vhost", () => {
    expect(synthesized).toHaveResourceWithProperties(Container, {
      name: "consul-lab-dev1002-load-balancer",
      network_mode: expect.stringMatching(/^container:\$\{docker_container\.namespace_container_[0-9A-F]+\.id\}$/),
      upload: [
        { file: NGINX_MAIN_CONF, content: renderNginxMainConf() },
        { file: LOAD_BALANCER_PATHS.config, content: renderConsulTemplateConfigJson(lab, loadBalancerJob()) },
        { file: LOAD_BALANCER_PATHS.template, content: renderUpstreamTemplate(lab) },
        { file: LOAD_BALANCER_PATHS.consulToken, content: "TOKEN-FOR-consul-template", permissions: "0400" },
        { file: LOAD_BALANCER_PATHS.consulUi, content: renderConsulUiVhost(lab) },
      ],
    });
  });
});

describe("DnsForwarder", () => {
  it("runs the rendered dnsmasq config in the node's namespace, from an image built from assets/dnsmasq", () => {
    const synthesized = Testing.synthScope((scope) => {
      const namespace = namespaceOf(scope, "dev1003");
      const image = new AssetImage(scope, "image", { lab, spec: dnsForwarderImageSpec(lab) });
      new DnsForwarder(scope, "dns", { lab, nodeName: "dev1003", namespace, image: image.image.imageId });
    });
    expect(synthesized).toHaveResourceWithProperties(Container, {
      name: "consul-lab-dev1003-dns",
      network_mode: expect.stringMatching(/^container:/),
      upload: [{ file: "/etc/dnsmasq.d/consul-lab.conf", content: renderDnsmasqConf(lab) }],
    });
    expect(resourcesOf(synthesized, "docker_image")[0]).toMatchObject({
      name: expect.stringMatching(/^consul-lab-dnsmasq:[0-9a-f]{12}$/),
    });
    expect(dnsForwarderImageSpec(lab)).toMatchObject({ assetDir: "dnsmasq", buildArgs: { BASE_IMAGE: "alpine:3.20" } });
  });
});

describe("EntryPoint", () => {
  it("runs nginx with the entry config in the keepalived node's namespace", () => {
    const synthesized = Testing.synthScope((scope) => {
      const namespace = namespaceOf(scope, "dev1001");
      new EntryPoint(scope, "entry", { lab, nodeName: "dev1001", namespace, image: "nginx-image-id" });
    });
    expect(synthesized).toHaveResourceWithProperties(Container, {
      name: "consul-lab-dev1001-entry",
      image: "nginx-image-id",
      upload: [
        { file: NGINX_MAIN_CONF, content: renderNginxMainConf() },
        { file: "/etc/nginx/conf.d/default.conf", content: renderEntryPointConf(lab) },
      ],
    });
  });
});

describe("ConsulCluster", () => {
  const synthesized = Testing.synthScope(
    (scope) => new ConsulCluster(scope, "cluster", { lab, security: TEST_SECURITY }),
  );

  it("pins the pulled images and keeps them on destroy", () => {
    expect(synthesized).toHaveResourceWithProperties(Image, { name: "hashicorp/consul:1.20.6", keep_locally: true });
    expect(synthesized).toHaveResourceWithProperties(Image, { name: "nginx:1.27-alpine", keep_locally: true });
  });

  it("creates a namespace, an agent, a data volume and a workload for every node", () => {
    const containers = resourcesOf(synthesized, "docker_container").map((container) => container.name);
    expect(containers.sort()).toEqual(
      [
        ...lab.nodes.map((node) => `consul-lab-${node.name}`),
        ...lab.nodes.map((node) => `consul-lab-${node.name}-net`),
        "consul-lab-dev1001-entry",
        "consul-lab-dev1002-load-balancer",
        "consul-lab-dev1003-load-balancer",
        "consul-lab-dev1004-app",
        "consul-lab-dev1005-app",
        "consul-lab-dev1006-sorry",
        ...lab.nodes.map((node) => `consul-lab-${node.name}-dns`),
      ].sort(),
    );
    expect(resourcesOf(synthesized, "docker_volume")).toHaveLength(6);
  });

  it("runs only the agent and its DNS forwarder on a node without services", () => {
    const input = articleInput();
    input.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    const names = resourcesOf(
      Testing.synthScope(
        (scope) => new ConsulCluster(scope, "cluster", { lab: labOf(input), security: TEST_SECURITY }),
      ),
      "docker_container",
    ).map((container) => container.name);
    expect(names.filter((name) => name.includes("dev1007")).sort()).toEqual([
      "consul-lab-dev1007",
      "consul-lab-dev1007-dns",
      "consul-lab-dev1007-net",
    ]);
  });
});

describe("ConsulTemplateJob", () => {
  it("uploads its config and every template, and passes its token in the environment", () => {
    let job: ConsulTemplateJob | undefined;
    Testing.synthScope((scope) => {
      job = new ConsulTemplateJob(scope, "job", {
        lab,
        job: loadBalancerJob(),
        templateContents: { [LOAD_BALANCER_PATHS.template]: '{{ key "x" }}' },
        configFile: LOAD_BALANCER_PATHS.config,
        security: TEST_SECURITY,
      });
    });
    expect(job!.uploads.map((upload) => upload.file)).toEqual([
      LOAD_BALANCER_PATHS.config,
      LOAD_BALANCER_PATHS.template,
      LOAD_BALANCER_PATHS.consulToken,
    ]);
    // Root's alone: consul-template runs as root and reads it through consul.token_file.
    expect(job!.uploads[2]).toEqual({
      file: LOAD_BALANCER_PATHS.consulToken,
      content: "TOKEN-FOR-consul-template",
      permissions: "0400",
    });
  });

  it("refuses a template without contents", () => {
    expect(() =>
      Testing.synthScope(
        (scope) =>
          new ConsulTemplateJob(scope, "job", {
            lab,
            job: loadBalancerJob(),
            templateContents: {},
            configFile: LOAD_BALANCER_PATHS.config,
            security: TEST_SECURITY,
          }),
      ),
    ).toThrow(`no contents for template(s) ${LOAD_BALANCER_PATHS.template}; add them to templateContents`);
  });
});

describe("the cluster's security", () => {
  it("cannot be secure without secrets (the compiler refuses it)", () => {
    // @ts-expect-error a "secure" cluster always carries its secrets
    const insecure: ClusterSecurity = { mode: "secure" };
    expect(insecure.mode).toBe("secure");
  });

  it("must match the topology's, or the cluster refuses to build", () => {
    const input = articleInput();
    input.security = "none";
    expect(() =>
      Testing.synthScope(
        (scope) => new ConsulCluster(scope, "cluster", { lab: labOf(input), security: TEST_SECURITY }),
      ),
    ).toThrow(
      'the cluster was given security "secure" but the topology says "none"; build it with clusterSecurity(lab, ...)',
    );
    expect(() =>
      Testing.synthScope((scope) => new ConsulCluster(scope, "cluster", { lab, security: OPEN_CLUSTER })),
    ).toThrow('the cluster was given security "none" but the topology says "secure"');
  });
});
