import { join } from "node:path";
import { runApp } from "./tools/synth";

/** examples/shop-lab.yaml, synthesized by the real app: every name, port and key follows the file. */
describe("the shop-lab example", () => {
  const run = runApp({ CONSUL_LAB_TOPOLOGY: join(__dirname, "..", "examples", "shop-lab.yaml") });
  const cluster = JSON.parse(run.files["stacks/cluster/cdk.tf.json"] ?? "{}");
  const containers = Object.values(cluster.resource?.docker_container ?? {}) as any[];
  const container = (name: string) => containers.find((candidate) => candidate.name === name);
  const upload = (name: string, file: string) =>
    container(name).upload.find((entry: any) => entry.file === file).content as string;

  it("synthesizes", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("expects and joins five servers", () => {
    const agent = JSON.parse(upload("shop-lab-s4", "/consul/config/agent.json"));
    expect(agent).toMatchObject({ datacenter: "tokyo", server: true, bootstrap_expect: 5 });
    expect(agent.retry_join).toEqual(["10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.14", "10.20.0.15"]);
  });

  it("renders the site's template and the load balancers' ports from the file", () => {
    const template = upload("shop-lab-s2-load-balancer", "/etc/consul-template/templates/site.conf.ctmpl");
    expect(template).toContain('service "ap.shop@tokyo|passing"');
    expect(template).toContain('keyOrDefault "shop/maintenance" "off"');
    expect(template).toContain("listen 8081 default_server;");
    expect(upload("shop-lab-s2-load-balancer", "/etc/nginx/conf.d/consul-ui.conf")).toContain("listen 8081;");
    expect(upload("shop-lab-s1-entry", "/etc/nginx/conf.d/default.conf")).toContain("server 10.20.0.12:8081");
  });

  it("serves a placeholder on the metrics node and checks it over TCP", () => {
    expect(upload("shop-lab-metrics-placeholder", "/etc/nginx/conf.d/default.conf")).toContain("listen 9090;");
    const agent = JSON.parse(upload("shop-lab-metrics", "/consul/config/agent.json"));
    expect(agent.services[0].checks[0]).toMatchObject({ tcp: "127.0.0.1:9090" });
  });
});
