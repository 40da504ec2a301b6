/**
 * `npm run verify`: what a deployed lab must show, each fact checked against the running lab and printed with the
 * value seen. Read-only: the one write it tries (an anonymous KV write in "secure" mode) must be refused.
 */
import { ANONYMOUS_WRITE_PROBE_KEY, MAINTENANCE_HANDLER_LOG } from "../shared/lab-contract";
import type { Lab, ServiceSpec } from "../topology";
import { CannotJudge, type ConsulApi, type HealthEntry } from "../runtime/consul-api";
import { DnsAnswer, resolveTcp, resolveUdp } from "../runtime/dns-client";
import { fetchSitePage, httpGet } from "../runtime/site-page";
import { podProblems } from "../runtime/node-pods";
import type { LabContainers } from "../runtime/lab-containers";

export interface Fact {
  readonly fact: string;
  readonly ok: boolean;
  /** What was seen, or why it could not be seen. */
  readonly seen: string;
  /** Shown for people, never judged: printed as `info`, not counted among the checks. */
  readonly informational?: true;
}

export interface VerifyContext {
  readonly lab: Lab;
  readonly api: ConsulApi;
  readonly containers: LabContainers;
  /** The site's entry, `http://<publish.address>:<publish.entryPort>/`. */
  readonly entryUrl: string;
  /**
   * The published ports come through SSH forwards, which carry no UDP: DNS over UDP is asked inside the publish node
   * instead (its dnsmasq, which forwards the Consul domain to its agent), and the fact says so.
   */
  readonly dnsUdpInsideNode?: boolean;
}

/** Whether an answer is the Consul UI: its HTML names the `consul-ui` application, which no site page does. */
function uiSeen(response: { status: number; body: string }): { ok: boolean; seen: string } {
  const isUi = response.body.includes("consul-ui");
  return {
    ok: response.status === 200 && isUi,
    seen: `HTTP ${response.status}, ${isUi ? "the Consul UI" : "not the Consul UI"}`,
  };
}

/** The app servers that pass every check now, by node name. */
export async function passingAppServers(lab: Lab, api: ConsulApi): Promise<string[]> {
  const { site } = lab.topology;
  const entries = await api.get<HealthEntry[]>(`/v1/health/service/${site.service}?passing=true`);
  return entries
    .filter(
      (entry) =>
        (entry.Service.Tags ?? []).includes(site.appTag) && !(entry.Service.Tags ?? []).includes(site.sorryTag),
    )
    .map((entry) => entry.Node.Node)
    .sort();
}

/**
 * The passing app servers, read once per pass, or why they could not be read: the facts judged against them then say
 * they cannot judge, rather than expecting the sorry page of a lab whose health is merely unreadable.
 */
type Passing = { readonly servers: string[] } | { readonly unreadable: string };

/** The app servers a fact is judged against; throws CannotJudge when health could not be read. */
function passingOrCannotJudge(passing: Passing): string[] {
  if ("unreadable" in passing)
    throw new CannotJudge(`the passing app servers could not be read (${passing.unreadable})`);
  return passing.servers;
}

async function fact(name: string, check: () => Promise<{ ok: boolean; seen: string }>): Promise<Fact> {
  try {
    return { fact: name, ...(await check()) };
  } catch (error) {
    // Neither verdict fits what was seen: say so, and why.
    if (error instanceof CannotJudge) return { fact: name, ok: false, seen: `cannot judge: ${error.message}` };
    if (error instanceof TypeError)
      return { fact: name, ok: false, seen: `cannot judge: an answer not shaped as Consul's (${error.message})` };
    return { fact: name, ok: false, seen: (error as { cause?: Error }).cause?.message ?? (error as Error).message };
  }
}

const same = (a: readonly string[], b: readonly string[]) =>
  JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** How far apart two looks at the leader are, for it to count as holding still. */
export const LEADER_STILL_MS = 1_000;

async function clusterFacts({ lab, api }: VerifyContext): Promise<Fact[]> {
  const servers = lab.servers.map((server) => server.name);
  const facts = [
    await fact("a leader is elected, and holds still", async () => {
      // Two looks a second apart: a leader that changes between them is no settled cluster (raft's leader lasts
      // while it keeps its lease; a new one takes an election, seconds at the default raft_multiplier).
      const first = await api.get<string>("/v1/status/leader");
      if (!first) return { ok: false, seen: "no leader" };
      await new Promise((resolve) => setTimeout(resolve, LEADER_STILL_MS));
      const second = await api.get<string>("/v1/status/leader");
      return first === second
        ? { ok: true, seen: first }
        : { ok: false, seen: `${first}, then ${second || "no leader"} ${LEADER_STILL_MS / 1000} s later` };
    }),
    await fact(`the raft peers are the servers (${servers.join(", ")}), all voters`, async () => {
      const config = await api.get<{ Servers: { Node: string; Voter: boolean }[] }>("/v1/operator/raft/configuration");
      const seen = config.Servers.map((server) => `${server.Node}${server.Voter ? "" : " (non-voter)"}`);
      return {
        ok:
          same(
            config.Servers.map((s) => s.Node),
            servers,
          ) && config.Servers.every((s) => s.Voter),
        seen: seen.join(", "),
      };
    }),
    await fact(`every node is an alive member (${lab.nodes.length})`, async () => {
      const answer = await api.request<{ Name: string; Status: number }[]>("GET", "/v1/agent/members");
      if (answer.status !== 200) throw new Error(`GET /v1/agent/members: HTTP ${answer.status} ${answer.text.trim()}`);
      const members = answer.body;
      if (!Array.isArray(members)) throw new CannotJudge("GET /v1/agent/members: HTTP 200 without a list of members");
      const missing = lab.nodes.map((node) => node.name).filter((name) => !members.some((m) => m.Name === name));
      // A member the token may not see is left out, and Consul says so: absent is then not "not alive".
      if (missing.length > 0 && answer.filteredByAcls)
        throw new CannotJudge(
          `${missing.join(", ")} not listed, and Consul filtered the members by ACLs (X-Consul-Results-Filtered-By-ACLs): the token cannot see them`,
        );
      const notAlive = lab.nodes
        .map((node) => node.name)
        .filter((name) => members.find((member) => member.Name === name)?.Status !== 1);
      return {
        ok: notAlive.length === 0,
        seen: notAlive.length === 0 ? `${members.length} alive` : `not alive: ${notAlive.join(", ")}`,
      };
    }),
  ];
  if (lab.secure) {
    facts.push(
      await fact("gossip is encrypted", async () => {
        const self = await api.get<{ Stats?: { serf_lan?: { encrypted?: string } } }>("/v1/agent/self");
        const encrypted = self.Stats?.serf_lan?.encrypted;
        return { ok: encrypted === "true", seen: `serf_lan encrypted=${encrypted}` };
      }),
      await fact("ACLs refuse an anonymous write", async () => {
        const probe = ANONYMOUS_WRITE_PROBE_KEY;
        const answer = await api.request("PUT", `/v1/kv/${probe}`, { body: "x", anonymous: true });
        if (answer.status === 200) await api.deleteKv(probe);
        return { ok: answer.status === 403, seen: `HTTP ${answer.status}` };
      }),
    );
  }
  return facts;
}

/** How a catalog entry differs from the instance the topology declares (port, tags), or undefined. */
function instanceRewrite(entry: HealthEntry, service: ServiceSpec): string | undefined {
  const tags = [...(entry.Service.Tags ?? [])].sort();
  const declared = [...service.tags].sort();
  const sameTags = tags.length === declared.length && tags.every((tag, index) => tag === declared[index]);
  if (entry.Service.Port === service.port && sameTags) return undefined;
  const shown = (port: number, tagList: readonly string[]) => `port ${port}, tags [${tagList.join(", ")}]`;
  return `is registered with ${shown(entry.Service.Port, tags)}; the topology says ${shown(service.port, declared)}`;
}

async function catalogFacts({ lab, api }: VerifyContext): Promise<Fact[]> {
  const facts: Fact[] = [];
  for (const name of [...new Set(lab.topology.services.map((service) => service.name))]) {
    const expected = lab.nodes.flatMap((node) =>
      lab
        .instancesOn(node.name)
        .filter((instance) => instance.service.name === name)
        .map((instance) => ({ node: node.name, id: instance.id, service: instance.service })),
    );
    facts.push(
      await fact(`${name}: ${expected.length} instance(s) registered, every check passing`, async () => {
        const entries = await api.get<HealthEntry[]>(`/v1/health/service/${name}`);
        const problems: string[] = [];
        for (const { node, id, service } of expected) {
          const entry = entries.find((candidate) => candidate.Node.Node === node && candidate.Service.ID === id);
          if (!entry) {
            problems.push(`${id} on ${node} is not registered`);
            continue;
          }
          // Another token with write on this service can rewrite this node's instance (Consul checks the catalog's
          // register per service, not per node: vetRegisterWithACL): what it serves must be what the topology says.
          const rewritten = instanceRewrite(entry, service);
          if (rewritten) problems.push(`${id} on ${node} ${rewritten}`);
          for (const check of entry.Checks.filter((candidate) => candidate.Status !== "passing")) {
            problems.push(`${id} on ${node}: ${check.Name} is ${check.Status} (${check.Output.trim().slice(0, 120)})`);
          }
        }
        // The catalog holds what the topology says, and nothing more: an instance no agent of the lab registered
        // (another token's write) is named, whatever its health, and never counted as passing.
        for (const entry of entries)
          if (!expected.some(({ node, id }) => entry.Node.Node === node && entry.Service.ID === id))
            problems.push(
              `${entry.Service.ID} on ${entry.Node.Node} (${entry.Node.Address}) is registered, and the topology has no such instance`,
            );
        return {
          ok: problems.length === 0,
          seen: problems.length === 0 ? `${expected.length} passing` : problems.join("; "),
        };
      }),
    );
  }
  return facts;
}

/**
 * BusyBox's nslookup (every image here is Alpine), asked for A records only. Since BusyBox 1.31 it exits 1 when the
 * server answers with an error code ("nslookup: return exitcode 1 on resolution errors", networking/nslookup.c), so
 * it runs with execAnswer: a refusal is an answer.
 */
const NSLOOKUP_A = ["nslookup", "-type=a"];

/**
 * The addresses in BusyBox nslookup's answers: the `Address:` lines after a `Name:` line, in any of its blocks (the
 * server's own address comes before the first). BusyBox exits 0 even when it finds nothing.
 */
function nslookupAddresses(output: string | undefined): string[] {
  return (output ?? "")
    .split(/^Name:/m)
    .slice(1)
    .flatMap((block) => [...block.matchAll(/^Address(?: \d+)?:\s*([0-9.]+)\s*$/gm)].map((match) => match[1]));
}

/**
 * How a lookup ended, as BusyBox nslookup prints it: undefined when it did not run at all (no `Server:` header, so
 * no server was asked), else its addresses, or the refusal it printed (`** server can't find NAME: NXDOMAIN`).
 */
function nslookupOutcome(output: string | undefined): { addresses: string[]; refusal?: string } | undefined {
  if (!output || !/^Server:/m.test(output)) return undefined;
  const refusal = /^\*\* server can't find [^:]+: (\S+)/m.exec(output)?.[1];
  return { addresses: nslookupAddresses(output), refusal };
}

function describeDns(answer: DnsAnswer): string {
  return answer.addresses.length > 0 ? answer.addresses.join(", ") : answer.rcode;
}

async function dnsFacts(context: VerifyContext, passing: Passing): Promise<Fact[]> {
  const { lab } = context;
  const { consul, publish, site } = lab.topology;
  const domain = consul.domain;
  const lbService = lab.topology.services.find((service) => service.name === site.loadBalancerService);
  const lbNodes = lab.nodesRunning("load-balancer").map((node) => node.address);
  // The prepared query answers with the passing app servers: unknown when health is unreadable.
  const queryAddresses = "servers" in passing ? passing.servers.map((name) => lab.node(name).address) : undefined;
  const names: [string, string[] | undefined][] = [
    [`${lab.publishNode.name}.node.${domain}`, [lab.publishNode.address]],
    [`${site.loadBalancerService}.service.${domain}`, lbNodes],
    ...(lbService?.tags[0]
      ? [[`${lbService.tags[0]}.${site.loadBalancerService}.service.${domain}`, lbNodes] as [string, string[]]]
      : []),
    [`${site.service}.query.${domain}`, queryAddresses],
  ];
  const expectedOf = (addresses: string[] | undefined) => addresses ?? passingOrCannotJudge(passing);
  const shown = (addresses: string[] | undefined) =>
    addresses === undefined ? "the passing app servers" : addresses.join(", ") || "none";
  const facts: Fact[] = [];
  const inside = await context.containers.find(lab.publishNode.name, "dns");
  for (const [name, addresses] of names) {
    for (const [protocol, resolve] of [
      ["udp", resolveUdp],
      ["tcp", resolveTcp],
    ] as const) {
      if (protocol === "udp" && context.dnsUdpInsideNode) {
        facts.push(
          await fact(
            `DNS udp inside ${lab.publishNode.name} (UDP is not forwarded over ssh): ${name} -> ${shown(addresses)}`,
            async () => {
              const expected = expectedOf(addresses);
              if (!inside) return { ok: false, seen: "no DNS forwarder container found" };
              const outcome = nslookupOutcome(
                await context.containers.execAnswer(inside, [...NSLOOKUP_A, name, "127.0.0.1"]),
              );
              if (!outcome) return { ok: false, seen: "the lookup did not run (no server answered nslookup)" };
              return {
                ok: same(outcome.addresses, expected),
                seen: outcome.addresses.join(", ") || outcome.refusal || "no address",
              };
            },
          ),
        );
        continue;
      }
      facts.push(
        await fact(
          `DNS ${protocol} ${lab.publishedHost}:${publish.dnsPort}: ${name} -> ${shown(addresses)}`,
          async () => {
            const expected = expectedOf(addresses);
            const answer = await resolve(name, lab.publishedHost, publish.dnsPort);
            return { ok: same(answer.addresses, expected), seen: describeDns(answer) };
          },
        ),
      );
    }
  }
  // Inside a node: its dnsmasq on the node's loopback, as the node's own resolver reaches it.
  const nodeName = `${lab.publishNode.name}.node.${domain}`;
  facts.push(
    await fact(
      `DNS inside ${lab.publishNode.name} (its dnsmasq): ${nodeName} -> ${lab.publishNode.address}`,
      async () => {
        if (!inside) return { ok: false, seen: "no DNS forwarder container found" };
        const seen = nslookupAddresses(
          await context.containers.execAnswer(inside, [...NSLOOKUP_A, nodeName, "127.0.0.1"]),
        );
        return { ok: seen.includes(lab.publishNode.address), seen: seen.join(", ") || "no answer" };
      },
    ),
  );
  const recursing = consul.recursors.length > 0;
  facts.push(
    await fact(
      `DNS inside ${lab.publishNode.name}: example.com ${recursing ? "resolves through Consul's recursors" : "gets no answer (no recursors)"}`,
      async () => {
        if (!inside) return { ok: false, seen: "no DNS forwarder container found" };
        // A lookup that never ran is no evidence: only a server's own NXDOMAIN or REFUSED counts as "no answer".
        const outcome = nslookupOutcome(
          await context.containers.execAnswer(inside, [...NSLOOKUP_A, "example.com", "127.0.0.1"]),
        );
        if (!outcome) return { ok: false, seen: "the lookup did not run (no server answered nslookup)" };
        if (outcome.addresses.length > 0) return { ok: recursing, seen: `answered ${outcome.addresses.join(", ")}` };
        const refused = outcome.refusal === "NXDOMAIN" || outcome.refusal === "REFUSED";
        return {
          ok: !recursing && refused,
          seen: refused ? `no answer (${outcome.refusal})` : `no address, and no NXDOMAIN or REFUSED either`,
        };
      },
    ),
  );
  return facts;
}

async function siteFacts(context: VerifyContext, passing: Passing): Promise<Fact[]> {
  const { lab, api, entryUrl } = context;
  const { site } = lab.topology;
  const facts: Fact[] = [];
  const expectedPage =
    "servers" in passing
      ? passing.servers.length > 0
        ? "an app server's page"
        : "the sorry page"
      : "the page the app servers' health calls for";
  facts.push(
    await fact(`the maintenance flag ${site.maintenanceKey} agrees with the passing app servers`, async () => {
      const servers = passingOrCannotJudge(passing);
      const flag = await api.kv(site.maintenanceKey);
      const expected = servers.length > 0 ? "off" : "on";
      return {
        ok: flag === expected,
        seen: `${flag ?? "<unset>"} with ${servers.length} passing (${servers.join(", ") || "none"})`,
      };
    }),
    await fact(`${entryUrl} answers 200 with ${expectedPage}`, async () => {
      const expected = passingOrCannotJudge(passing).length > 0 ? "app" : "sorry";
      const page = await fetchSitePage(entryUrl);
      return {
        ok: page.kind === expected,
        seen: `HTTP ${page.status}, ${page.kind === "other" ? "unexpected page" : `${page.kind} page from ${page.node}`}`,
      };
    }),
    lab.secure
      ? await fact(
          `the Consul UI through the load balancers (Host: ${site.consulUiHostname}) sends the browser to the HTTPS API`,
          async () => {
            const answer = await httpGet(`${entryUrl}ui/`, site.consulUiHostname);
            const expected = `https://${site.consulUiHostname}:${lab.topology.publish.httpPort}/ui/`;
            return {
              ok: answer.status === 308 && answer.location === expected,
              seen: `HTTP ${answer.status}${answer.location ? ` to ${answer.location}` : ""}`,
            };
          },
        )
      : await fact(
          `the Consul UI through the load balancers (Host: ${site.consulUiHostname}) answers with the UI`,
          async () => uiSeen(await httpGet(`${entryUrl}ui/`, site.consulUiHostname)),
        ),
    await fact(`the Consul UI ${lab.publishedApiUrl}/ui/ answers with the UI`, async () =>
      uiSeen(await httpGet(`${lab.publishedApiUrl}/ui/`, undefined, undefined, context.api.tls)),
    ),
  );
  for (const lb of lab.nodesRunning("load-balancer")) {
    const agent = await context.containers.find(lb.name, "agent");
    const last = agent ? await context.containers.exec(agent, ["tail", "-n", "1", MAINTENANCE_HANDLER_LOG]) : undefined;
    // The handler's log is for people: shown, never judged (a fresh lab may not have changed the flag yet).
    facts.push({
      fact: `the watch handler's last change on ${lb.name}`,
      ok: true,
      seen: last?.trim() || "none logged yet",
      informational: true,
    });
  }
  return facts;
}

/**
 * Whether every node's containers run inside its namespace: a namespace that restarted strands them, and a daemon
 * restart can leave them exited (runtime/node-pods.ts); neither heals by itself, and `npm run repair` fixes both.
 */
async function containerFacts({ lab, containers }: VerifyContext): Promise<Fact[]> {
  return [
    await fact("every node's containers run, joined to its namespace", async () => {
      const pods = await containers.pods();
      const problems = lab.nodes.flatMap((node) => {
        const pod = pods.find((candidate) => candidate.node === node.name);
        return pod ? podProblems(pod) : [`${node.name} has no containers (deploy it with \`npm run deploy\`)`];
      });
      const count = pods.reduce((sum, pod) => sum + pod.joined.length + (pod.namespace ? 1 : 0), 0);
      if (problems.length === 0) return { ok: true, seen: `${count} containers on ${pods.length} nodes` };
      return { ok: false, seen: `${problems.join("; ")}; \`npm run repair\` makes the nodes whole` };
    }),
  ];
}

/** Every fact, in the order they print. */
export async function verifyLab(context: VerifyContext): Promise<Fact[]> {
  // Asked once per pass: the DNS query's answer and the flag are both judged against it.
  const passing: Passing = await passingAppServers(context.lab, context.api).then(
    (servers) => ({ servers }),
    (error: Error) => ({ unreadable: error.message }),
  );
  return [
    ...(await containerFacts(context)),
    ...(await clusterFacts(context)),
    ...(await catalogFacts(context)),
    ...(await dnsFacts(context, passing)),
    ...(await siteFacts(context, passing)),
  ];
}
