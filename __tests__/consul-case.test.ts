/**
 * Consul compares service names, service IDs and tag filters without case (topology/validate-consul-case.ts cites
 * where): every such comparison in validation is made as Consul makes it, one case per rule of the table.
 */
import { CONSUL_CASE_RULES } from "../topology/validate-consul-case";
import { articleInput, problemsOf } from "./tools/helpers";

describe("names Consul compares without case", () => {
  it.each([
    [
      "a service named like Consul's own",
      (input: any) => input.services.push({ name: "Consul", port: 9100, nodes: ["dev1004"] }),
      /^services\[4\]\.name: "Consul" is "consul" \(the service every Consul server registers itself as\) in another case/,
    ],
    [
      "a service named like the site's in another case",
      (input: any) => input.services.push({ name: "Test_Hoge_Dev_Jp", id: "extra", port: 9100, nodes: ["dev1004"] }),
      /^services\[4\]\.name: "Test_Hoge_Dev_Jp" is "test_hoge_dev_jp" \(site\.service\) in another case/,
    ],
    [
      "an external service named like the load balancers'",
      (input: any) => (input.externalServices = [{ node: "vagrant", address: "10.0.1.100", service: "NGINX" }]),
      /^externalServices\[0\]\.service: "NGINX" is "nginx" \(site\.loadBalancerService\) in another case/,
    ],
    [
      "a sorry tag that is the app tag in another case",
      (input: any) => {
        input.site = { ...input.site, sorryTag: "WEB" };
        input.services[3].tags = ["WEB"];
      },
      /^site\.sorryTag: "WEB" is site\.appTag "web" in another case/,
    ],
    [
      "two instance IDs on one node that differ only in case",
      (input: any) => input.services.push({ name: "metrics", id: "WEB", port: 9100, nodes: ["dev1004"] }),
      /^services\[4\]\.id: "WEB" on node "dev1004" is services\[2\]'s ID "web" in another case/,
    ],
    [
      "one service written in two cases",
      (input: any) =>
        input.services.push(
          { name: "metrics", id: "m1", port: 9100, nodes: ["dev1004"] },
          { name: "Metrics", id: "m2", port: 9100, nodes: ["dev1005"] },
        ),
      /^services\[5\]\.name: "Metrics" is services\[4\]'s "metrics" in another case/,
    ],
    [
      "one tag twice in two cases",
      (input: any) => (input.services[2].tags = ["web", "Primary", "primary"]),
      /^services\[2\]\.tags\[2\]: "primary" is the tag "Primary" in another case/,
    ],
  ])("refuses %s", (_what, change, problem) => {
    const input = articleInput();
    change(input);
    expect(problemsOf(input)).toContainEqual(expect.stringMatching(problem));
  });

  it("cites where Consul compares each kind of name", () => {
    for (const where of Object.values(CONSUL_CASE_RULES)) expect(where).toMatch(/agent\/consul\/state\/\S+\.go/);
  });

  it("still reads the article's lab, whose names are all one case", () => {
    expect(problemsOf(articleInput())).toEqual([]);
  });
});
