/**
 * The node's resolver settings against musl's rules (musl 1.2.5, src/network/lookup_name.c, name_from_dns_search),
 * which every Alpine image here uses: a name with fewer dots than ndots is tried with each search domain in order,
 * then as written; one with at least ndots dots, or a trailing dot, only as written. A candidate that gets NXDOMAIN
 * moves on to the next; any other failure, or an empty answer (NODATA), ends the lookup.
 */
import { renderNodeResolver } from "../renderers";
import { articleInput, labOf } from "./tools/helpers";

type Answer = { rcode: "NOERROR"; address?: string } | { rcode: "NXDOMAIN" | "REFUSED" };

function muslCandidates(name: string, search: readonly string[], ndots: number): string[] {
  const dots = [...name].filter((char) => char === ".").length;
  if (name.endsWith(".")) return [name.slice(0, -1)];
  if (dots >= ndots) return [name];
  return [...search.map((domain) => `${name}.${domain}`), name];
}

function muslResolve(name: string, dns: (query: string) => Answer, search: readonly string[], ndots: number) {
  const tried: string[] = [];
  for (const candidate of muslCandidates(name, search, ndots)) {
    tried.push(candidate);
    const answer = dns(candidate);
    if (answer.rcode === "NXDOMAIN") continue;
    return { address: answer.rcode === "NOERROR" ? answer.address : undefined, tried };
  }
  return { address: undefined, tried };
}

/** Consul's DNS behind the node's dnsmasq, with the article's catalog; names outside .consul are refused. */
function consulDns(domain: string): (query: string) => Answer {
  const records: Record<string, string> = {
    [`dev1001.node.${domain}`]: "10.0.1.1",
    [`keepalived.service.${domain}`]: "10.0.1.1",
    [`nginx.service.${domain}`]: "10.0.1.2",
    [`lb.nginx.service.${domain}`]: "10.0.1.2",
  };
  return (query) => {
    if (records[query]) return { rcode: "NOERROR", address: records[query] };
    if (query.endsWith(`.${domain}`)) return { rcode: "NXDOMAIN" };
    return { rcode: "REFUSED" };
  };
}

describe("a node's resolver", () => {
  const settings = renderNodeResolver(labOf());
  const ndots = Number(/^ndots:(\d+)$/.exec(settings.options.find((option) => option.startsWith("ndots:"))!)![1]);
  const resolve = (name: string) => muslResolve(name, consulDns("consul"), settings.search, ndots);

  it("sends every query to the node's dnsmasq on its loopback", () => {
    expect(settings.nameservers).toEqual(["127.0.0.1"]);
  });

  it("sets ndots itself, since Docker's ndots:0 would make musl skip every search domain", () => {
    expect(muslResolve("dev1001", consulDns("consul"), settings.search, 0).address).toBeUndefined();
    expect(ndots).toBeGreaterThan(0);
    expect(ndots).toBeLessThanOrEqual(15);
  });

  it.each([
    ["dev1001", "10.0.1.1"],
    ["keepalived.service", "10.0.1.1"],
    ["keepalived.service.consul", "10.0.1.1"],
    ["lb.nginx.service.consul", "10.0.1.2"],
    ["nginx.service.consul.", "10.0.1.2"],
  ])("resolves %s as the README promises", (name, address) => {
    expect(resolve(name).address).toBe(address);
  });

  it("asks for a name of two dots or more only as written", () => {
    expect(resolve("keepalived.service.consul").tried).toEqual(["keepalived.service.consul"]);
  });

  it("leaves names outside Consul unresolved without recursors, after the search domains miss", () => {
    expect(resolve("example.com")).toEqual({
      address: undefined,
      tried: ["example.com.node.consul", "example.com.service.consul", "example.com.consul", "example.com"],
    });
  });

  it("follows consul.domain", () => {
    const input = articleInput();
    input.consul = { domain: "lab" };
    const custom = renderNodeResolver(labOf(input));
    expect(custom.search).toEqual(["node.lab", "service.lab", "lab"]);
    expect(muslResolve("keepalived.service", consulDns("lab"), custom.search, ndots).address).toBe("10.0.1.1");
  });
});
