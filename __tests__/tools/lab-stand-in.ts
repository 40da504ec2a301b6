/**
 * A deployed lab, stood in for on loopback: a fake Consul HTTP API whose state follows the real lab's timings
 * (verify/lab-timings.ts) scaled down ten times; its layers as on a real host: a real nginx as the entry point, in
 * front of a real nginx per load balancer, each with a template step that renders the lab's own consul-template
 * template (renderers/site-upstream-template.ts, with Go's text/template) after consul-template's quiescence, checks it
 * with `nginx -t` and reloads, in front of a page server per app and sorry node; a real dnsmasq answering Consul's
 * names; and the fake `docker` (tools/fakes) listing the lab's containers, taking its time to stop one
 * (FAKE_DOCKER_STOP_MS), and passing `docker exec` here (`nginx -T` is the load balancer's real one). Stopping an app
 * container makes its check fail on its next run (one check interval), the status reaches the watch at once and its
 * handler writes the flag from health, and the load balancers' templates follow after their quiescence; stopping a
 * load balancer stops its nginx, and the entry falls back to the other; stopping the leader elects another after
 * raft's timeouts. While the publish node's agent is stopped, its published DNS port behaves as Docker's proxy does
 * with nothing behind it: it accepts a TCP connection and closes it.
 *
 * Addresses: the nginx of a load balancer loads the rendered config with each lab address (10.0.1.4:80) turned into
 * its page server's loopback port, and what `nginx -T` prints is turned back, so verify reads the lab's addresses.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSocket as createUdpSocket } from "node:dgram";
import { createServer as createNetServer, Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAINTENANCE_HANDLER_LOG, renderSiteInstances, renderUpstreamTemplate } from "../../renderers";
import { dockerVariablesOf } from "../../shared/docker-hosts";
import { engineFileName } from "./fakes/engine-file.cjs";
import { labTimings, scaledTimings } from "../../verify/lab-timings";
import type { Lab } from "../../topology";
import { startDnsmasq, RunningDnsmasq } from "./dnsmasq";
import { RunningNginx, startNginx } from "./nginx";
import { freeLoopbackPort } from "./ports";
import { type Fixture, renderTemplate } from "./render-template";

export interface Timeline {
  /** From an app server stopping to its check failing (one check interval, at worst). */
  healthDelayMs: number;
  /** From a health change to the watch handler writing the flag. */
  flagDelayMs: number;
  /** From a health change to the load balancers' upstream: consul-template's quiescence, its `wait.min`. */
  upstreamDelayMs: number;
  /** The longest the quiescence waits while changes keep coming: consul-template's `wait.max`. */
  upstreamMaxDelayMs: number;
  /** From the leader stopping to a new leader: at least this, ... */
  electionDelayMs: number;
  /** ... at most this, drawn anew for each election as raft's randomized timeouts make it. */
  electionMaxDelayMs: number;
  /** How long `docker stop` takes (the fake docker's FAKE_DOCKER_STOP_MS). */
  dockerStopMs: number;
  /** The watch handler never writes the flag: a step waiting for it must fail at its deadline. */
  flagNeverChanges: boolean;
  /** Anonymous writes get through: an open lab's, or a misconfigured secure lab's. */
  anonymousWrites: boolean;
  /** A server's agent started again never learns a leader (it cannot rejoin). */
  neverRejoins: boolean;
  /** `docker exec ... nslookup` cannot run (a broken image): no lookup happens at all. */
  nslookupFails: boolean;
  /** A leader that flaps (a fault a test injects): each look at the leader, by anyone, sees the next server. */
  leaderFlaps: boolean;
}

export interface ContainerLine {
  Names: string;
  Labels: string;
  State: string;
  HostConfig?: { NetworkMode: string };
  Started?: number;
}

/**
 * Every container of a deployed lab as the fake docker lists them (tools/fakes/fake-docker.mjs): per node its namespace
 * container, and its agent, DNS forwarder and workload joined to it after it started.
 */
export function labContainerLines(lab: Lab): ContainerLine[] {
  return lab.nodes.flatMap((node) => {
    const roles = ["netns", "agent", "dns", ...(lab.workloadOf(node.name) ? [lab.workloadOf(node.name)!] : [])];
    const namespace = lab.dockerName(node.name, "net");
    return roles.map((role) => ({
      Names:
        role === "agent" ? lab.dockerName(node.name) : role === "netns" ? namespace : lab.dockerName(node.name, role),
      Labels: `consul-lab.lab=${lab.topology.name},consul-lab.node=${node.name},consul-lab.role=${role}`,
      State: "running",
      ...(role === "netns" ? { Started: 1 } : { HostConfig: { NetworkMode: `container:${namespace}` }, Started: 2 }),
    }));
  });
}

/** An `address:port` as an nginx `server` line names it (then a space or ';'), everywhere in a config. */
const serverAddress = (addressAndPort: string) =>
  new RegExp(`(?<=\\bserver )${addressAndPort.replace(/\./g, "\\.")}(?=[ ;])`, "g");

/** The node a container line belongs to, by its label. */
const nodeOfLine = (line: ContainerLine) => /consul-lab\.node=([^,]+)/.exec(line.Labels)?.[1] ?? "";

/** The containers of the nodes one host of a lab over several hosts runs, as that host's engine lists them. */
export function labContainerLinesOn(lab: Lab, hostName: string): ContainerLine[] {
  return labContainerLines(lab).filter((line) => lab.hostOf(nodeOfLine(line))?.name === hostName);
}

/** A load balancer of the stand-in: its nginx, the config its template rendered last, and its quiescence. */
interface LoadBalancerStandIn {
  readonly node: string;
  readonly port: number;
  nginx?: RunningNginx;
  /** The last render, as this machine's nginx loads it. */
  config: string;
  /** The inputs of the last render (templateInputs). */
  renderedFrom: string;
  /** The inputs seen last, when they last changed, and when they first changed since the last render. */
  lastInputs?: string;
  lastChange?: number;
  pendingSince?: number;
  /** Its nginx is being started or stopped. */
  switching?: boolean;
}

/** The stand-in runs ten times faster than a real lab. */
export const STAND_IN_SCALE = 0.1;

const listen = (server: Server, port: number, address = "127.0.0.1") =>
  new Promise<void>((resolve) => server.listen(port, address, resolve));
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

export class LabStandIn {
  /** The real lab's timings (lab-timings.ts) at a tenth, each the slow end of its range. */
  readonly timeline: Timeline;
  readonly dir = mkdtempSync(join(tmpdir(), "consul-lab-stand-in-"));
  readonly dockerState = join(this.dir, "docker.json");
  /**
   * On a lab over several hosts, the fake engines, one per host (FAKE_DOCKER_HOSTS), each listing its own nodes'
   * containers; undefined on one host, where `dockerState` is the one engine.
   */
  readonly enginesDir?: string;
  kv = new Map<string, string>();
  leader: string;
  /** Raft servers as the API reports them; a test may drop one. */
  raftServers: string[];
  private passing = new Map<string, boolean>();
  private lastRunning = new Map<string, boolean>();
  private timers: NodeJS.Timeout[] = [];
  private poller?: NodeJS.Timeout;
  private api?: Server;
  private control?: Server;
  /** Where the fake docker runs `docker exec` (FAKE_LAB_URL), once started. */
  controlUrl = "";
  /** Each app and sorry node's page server, by node name: it answers as that node while its workload runs. */
  private readonly pages = new Map<string, { server: Server; port: number }>();
  /** Each load balancer: its nginx and its template step. */
  private readonly balancers: LoadBalancerStandIn[] = [];
  /** Renders or reloads that failed in the poller, which stop() reports. */
  private readonly templateErrors: string[] = [];
  /** What every template renders from, when a test pins it (a stuck consul-template): only these addresses pass. */
  private pinnedPassing?: string[];
  /** The load balancers the entry sends to, when a test narrows them (before start): a lab without a fallback. */
  private entryBalancers?: string[];

  /** Page servers that answer 200 with another page than their own (a fault a test injects), by node name. */
  readonly wrongPage = new Set<string>();

  /**
   * API answers a test puts in place of what the stand-in models, by path (faults: a body cut short, an error, a list
   * filtered by ACLs with Consul's header).
   */
  readonly apiAnswers = new Map<string, { status: number; body: string; headers?: Record<string, string> }>();

  /** Load balancers whose template never sees the operator's switch (a fault a test injects). */
  private readonly ignoringOperatorSwitch = new Set<string>();

  /** A load balancer that renders as if the operator's switch were unset, whatever it says: it ignores maintenance. */
  ignoreOperatorSwitch(node: string): void {
    this.ignoringOperatorSwitch.add(node);
  }

  /** Before start: the entry sends only to these load balancers, so losing one of them is seen at the entry. */
  entryReachesOnly(nodes: string[]): void {
    this.entryBalancers = nodes;
  }
  private nginx?: RunningNginx;
  private dnsmasq?: RunningDnsmasq;
  /** Every ACL token a request to the API carried. */
  readonly tokensSeen = new Set<string>();
  /** Every `docker exec` the lab saw, as `container: command`. */
  readonly execs: string[] = [];

  /**
   * `tls`: a server's certificate and key of the lab's CA, which the API serves HTTPS with, as a "secure" lab's
   * published API does; without it the API is plain HTTP (security "none").
   */
  constructor(
    readonly lab: Lab,
    private readonly tls?: { readonly cert: string; readonly key: string },
    /**
     * A real engine whose containers are the lab's (`npm run test:engine`): their states come from it instead of the
     * fake docker's state file, which is then not written.
     */
    private readonly realEngine?: { readonly env: NodeJS.ProcessEnv },
  ) {
    const real = scaledTimings(labTimings(lab), STAND_IN_SCALE);
    this.timeline = {
      healthDelayMs: real.checkIntervalMs,
      flagDelayMs: real.statusToWatchMs,
      upstreamDelayMs: real.templateWaitMinMs,
      upstreamMaxDelayMs: real.templateWaitMaxMs,
      electionDelayMs: real.electionMinMs,
      electionMaxDelayMs: real.electionMaxMs,
      dockerStopMs: real.dockerStopMs,
      flagNeverChanges: false,
      // An open lab (security "none") has no ACLs: anyone may write.
      anonymousWrites: !lab.secure,
      neverRejoins: false,
      nslookupFails: false,
      leaderFlaps: false,
    };
    if (lab.multiHost) {
      this.enginesDir = join(this.dir, "engines");
      mkdirSync(this.enginesDir);
    }
    this.leader = `${lab.servers[0].address}:8300`;
    this.raftServers = lab.servers.map((server) => server.name);
    for (const node of lab.nodesRunning("app")) this.passing.set(node.name, true);
    this.kv.set(lab.topology.site.maintenanceKey, "off");
    if (realEngine) return;
    const containers = labContainerLines(lab);
    // Someone else's container on the same engine, which the drill must never touch.
    containers.push({
      Names: "someone-elses-app",
      Labels: "consul-lab.lab=other,consul-lab.node=x,consul-lab.role=app",
      State: "running",
    });
    this.writeContainers(containers);
  }

  /** Each engine's state file with the host it plays (undefined on one host). */
  private engineFiles(): { file: string; host?: string }[] {
    if (!this.enginesDir) return [{ file: this.dockerState }];
    return this.lab.hosts.map((host) => ({
      file: join(this.enginesDir!, engineFileName(dockerVariablesOf(host))),
      host: host.name,
    }));
  }

  /** The real engine's containers of the lab, asked at most every 100 ms. */
  private realContainers?: { at: number; lines: ContainerLine[] };

  /** Every container on every engine. */
  containers(): ContainerLine[] {
    if (this.realEngine) {
      if (!this.realContainers || Date.now() - this.realContainers.at > 100) {
        const listed = spawnSync(
          "docker",
          ["ps", "--all", "--filter", `label=consul-lab.lab=${this.lab.topology.name}`, "--format", "{{json .}}"],
          { encoding: "utf8", env: this.realEngine.env },
        );
        const lines = listed.stdout
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as ContainerLine);
        this.realContainers = { at: Date.now(), lines };
      }
      return this.realContainers.lines;
    }
    return this.engineFiles().flatMap(({ file }) => JSON.parse(readFileSync(file, "utf8")).containers);
  }

  /** Writes each engine's containers: on a lab over several hosts, each node's on its host's engine. */
  private writeContainers(containers: ContainerLine[]): void {
    const firstHost = this.lab.hosts[0]?.name;
    for (const { file, host } of this.engineFiles()) {
      const mine = containers.filter(
        (line) => host === undefined || (this.lab.hostOf(nodeOfLine(line))?.name ?? firstHost) === host,
      );
      const partial = `${file}.partial`;
      writeFileSync(
        partial,
        JSON.stringify({
          version: { Server: { Version: "29.0.1", ApiVersion: "1.52", Os: "linux", Arch: "amd64" } },
          containers: mine,
        }),
      );
      renameSync(partial, file);
    }
  }

  /** A container whose start succeeds but whose program ends at once: `docker start` exits 0, and it is not running. */
  exitsOnStart(name: string): void {
    const containers = this.containers();
    (
      containers.find((container) => container.Names === name)! as ContainerLine & { ExitsOnStart?: boolean }
    ).ExitsOnStart = true;
    this.writeContainers(containers);
  }

  /** Writes the containers back as given (a test that changed one of them). */
  replaceContainers(containers: ContainerLine[]): void {
    this.writeContainers(containers);
  }

  /** Sets a container's state directly, as if it had stopped before the test. */
  setRunning(name: string, running: boolean): void {
    const containers = this.containers();
    containers.find((container) => container.Names === name)!.State = running ? "running" : "exited";
    this.writeContainers(containers);
    this.observe(true);
  }

  /**
   * Restarts a node's namespace container behind the lab's back (an OOM kill, `docker restart`): what joined it is
   * stranded, by the fake docker's rules.
   */
  restartNamespace(node: string): void {
    const containers = this.containers();
    const latest = Math.max(...containers.map((container) => container.Started ?? 0));
    containers.find((container) => container.Names === this.lab.dockerName(node, "net"))!.Started = latest + 1;
    this.writeContainers(containers);
  }

  private running(name: string): boolean {
    return this.containers().find((container) => container.Names === name)?.State === "running";
  }

  /**
   * A stuck consul-template: every load balancer renders once more as if only `addresses` passed, and never again,
   * whatever health says.
   */
  pinUpstream(addresses: string[]): void {
    this.pinnedPassing = addresses;
    for (const lb of this.balancers) this.render(lb);
  }

  /** The template's inputs, as a key: what passes, the flag and the operator's switch. */
  private templateInputs(): string {
    const { site } = this.lab.topology;
    return JSON.stringify([
      this.pinnedPassing ?? [...this.passing.entries()],
      this.kv.get(site.maintenanceKey) ?? null,
      this.kv.get(this.lab.operatorMaintenanceKey) ?? null,
    ]);
  }

  /** The fixture consul-template would see now: the site's instances with their health, and the keys it reads. */
  private templateFixture(lb?: LoadBalancerStandIn): Fixture {
    const { lab } = this;
    const { site, datacenter } = lab.topology;
    const instances = lab.topology.services
      .filter((service) => service.name === site.service)
      .flatMap((service) =>
        service.nodes.map((nodeName) => {
          const node = lab.node(nodeName);
          const passing = this.pinnedPassing
            ? this.pinnedPassing.includes(node.address)
            : (this.passing.get(nodeName) ?? true);
          return {
            Node: nodeName,
            Address: node.address,
            Port: service.port,
            ID: service.id ?? service.name,
            Tags: service.tags,
            Status: passing ? ("passing" as const) : ("critical" as const),
          };
        }),
      );
    const kv: Record<string, string> = { [lab.siteInstancesKey]: renderSiteInstances(lab) };
    for (const key of [site.maintenanceKey, lab.operatorMaintenanceKey]) {
      if (key === lab.operatorMaintenanceKey && lb && this.ignoringOperatorSwitch.has(lb.node)) continue;
      const value = this.kv.get(key);
      if (value !== undefined) kv[key] = value;
    }
    return { datacenter, services: { [site.service]: instances }, kv };
  }

  /** The rendered site config as this machine's nginx loads it: lab addresses as page servers' loopback ports. */
  private localized(rendered: string, lb: LoadBalancerStandIn): string {
    const port = this.lab.portOf(this.lab.topology.site.service);
    let text = rendered.replace(
      new RegExp(`^(\\s*listen )${this.lab.portOf(this.lab.topology.site.loadBalancerService)} default_server;`, "m"),
      `$1127.0.0.1:${lb.port} default_server;`,
    );
    for (const [nodeName, page] of this.pages)
      text = text.replace(serverAddress(`${this.lab.node(nodeName).address}:${port}`), `127.0.0.1:${page.port}`);
    return text;
  }

  /** `nginx -T` of a load balancer, with its page servers' loopback ports turned back into the lab's addresses. */
  private loadedConfig(lb: LoadBalancerStandIn): string {
    const port = this.lab.portOf(this.lab.topology.site.service);
    let text = lb.nginx?.dump() ?? "";
    for (const [nodeName, page] of this.pages)
      text = text.replace(serverAddress(`127.0.0.1:${page.port}`), `${this.lab.node(nodeName).address}:${port}`);
    return text;
  }

  /** The template step: renders, has nginx check the result, and reloads it (consul-template's exec). */
  private render(lb: LoadBalancerStandIn): void {
    const rendered = renderTemplate(renderUpstreamTemplate(this.lab), this.templateFixture(lb));
    if (rendered.status !== 0) throw new Error(`the stand-in's template did not render: ${rendered.stderr}`);
    lb.config = this.localized(rendered.stdout, lb);
    lb.renderedFrom = this.templateInputs();
    if (lb.nginx) {
      const checked = lb.nginx.replace(lb.config);
      if (!checked.ok) throw new Error(`nginx refused the stand-in's render for ${lb.node}: ${checked.output}`);
    }
  }

  /**
   * consul-template's quiescence on one load balancer: a change of its inputs renders once they have been still for
   * `wait.min`, or `wait.max` after the first change at the latest.
   */
  private templateStep(lb: LoadBalancerStandIn, now: number): void {
    if (this.pinnedPassing) return;
    const inputs = this.templateInputs();
    if (inputs !== lb.lastInputs) {
      lb.lastInputs = inputs;
      lb.lastChange = now;
      lb.pendingSince ??= now;
    }
    if (lb.pendingSince === undefined) return;
    const quiet = now - lb.lastChange! >= this.timeline.upstreamDelayMs;
    const waitedLongest = now - lb.pendingSince >= this.timeline.upstreamMaxDelayMs;
    if (!quiet && !waitedLongest) return;
    lb.pendingSince = undefined;
    if (inputs !== lb.renderedFrom) this.render(lb);
  }

  /** A load balancer's container stopped or started: its nginx with it (consul-template renders at once on start). */
  private async followBalancer(lb: LoadBalancerStandIn): Promise<void> {
    const running = this.running(this.lab.dockerName(lb.node, "load-balancer"));
    if (lb.switching || running === (lb.nginx !== undefined)) return;
    lb.switching = true;
    try {
      if (running) {
        this.render(lb);
        lb.nginx = await startNginx(lb.config, lb.port);
      } else {
        const nginx = lb.nginx!;
        lb.nginx = undefined;
        await nginx.stop();
      }
    } finally {
      lb.switching = false;
    }
  }

  private later(ms: number, action: () => void, immediate: boolean): void {
    if (immediate) action();
    else this.timers.push(setTimeout(action, ms));
  }

  /** Follows the containers' states and plays the timeline's consequences. */
  private observe(immediate = false): void {
    const { timeline, lab } = this;
    for (const node of lab.nodesRunning("app")) {
      const name = lab.dockerName(node.name, "app");
      const running = this.running(name);
      if (this.lastRunning.get(name) === running) continue;
      this.lastRunning.set(name, running);
      this.later(
        timeline.healthDelayMs,
        () => {
          this.passing.set(node.name, running);
          this.writeDnsHosts();
          this.dnsmasq?.reload();
          const anyPassing = [...this.passing.values()].some(Boolean);
          if (!timeline.flagNeverChanges) {
            this.later(
              timeline.flagDelayMs,
              () => {
                const value = anyPassing ? "off" : "on";
                if (this.kv.get(lab.topology.site.maintenanceKey) !== value) {
                  this.kv.set(lab.topology.site.maintenanceKey, value);
                  this.flagLog.push(`2026-11-26T00:00:00Z set ${lab.topology.site.maintenanceKey} to ${value}`);
                }
              },
              immediate,
            );
          }
        },
        immediate,
      );
    }
    const leaderNode = lab.servers.find((server) => this.leader.startsWith(`${server.address}:`));
    if (leaderNode && !this.running(lab.dockerName(leaderNode.name)) && !this.electing) {
      this.electing = true;
      this.later(
        timeline.electionDelayMs + Math.random() * (timeline.electionMaxDelayMs - timeline.electionDelayMs),
        () => {
          const next = lab.servers.find((server) => server !== leaderNode && this.running(lab.dockerName(server.name)));
          this.leader = next ? `${next.address}:8300` : "";
          this.electing = false;
        },
        immediate,
      );
    }
  }
  private electing = false;
  private flaps = 0;

  /**
   * The leader's autopilot: each server's health and when it last changed, as raft-autopilot keeps them (state.go:
   * StableSince set when a server is new to this leader's autopilot or its Healthy value changes), updated on every
   * observation. A server is healthy while its agent runs and knows the leader. Consul rounds StableSince to the second;
   * the stand-in, ten times faster, keeps milliseconds so a scaled outage still shows.
   */
  private autopilot = new Map<string, { healthy: boolean; since: string }>();
  private autopilotLeader = "";
  /** Autopilot keeps its record from before (a fault a test injects): no health change is ever noted. */
  autopilotFrozen = false;

  /** Whether a server's agent was started again after the lab came up (the fake docker's Started count). */
  private restarted(container: string): boolean {
    return (this.containers().find((line) => line.Names === container)?.Started ?? 0) > 2;
  }

  private serverHealthy(name: string, lines: ContainerLine[]): boolean {
    const line = lines.find((candidate) => candidate.Names === this.lab.dockerName(name));
    const restarted = (line?.Started ?? 0) > 2;
    return this.leader !== "" && line?.State === "running" && !(restarted && this.timeline.neverRejoins);
  }

  private updateAutopilot(): void {
    if (this.autopilotFrozen) return;
    // A new leader's autopilot starts a state of its own.
    if (this.leader !== this.autopilotLeader) {
      this.autopilot.clear();
      this.autopilotLeader = this.leader;
    }
    if (!this.leader) return;
    const lines = this.containers();
    for (const server of this.lab.servers) {
      const healthy = this.serverHealthy(server.name, lines);
      const previous = this.autopilot.get(server.name);
      if (previous?.healthy !== healthy) this.autopilot.set(server.name, { healthy, since: new Date().toISOString() });
    }
  }

  /** /v1/operator/autopilot/health: 429 with the same body while anything is unhealthy (agent/operator_endpoint.go). */
  private autopilotHealth(): { status: number; body: unknown } {
    this.updateAutopilot();
    const servers = this.lab.servers.map((server) => {
      const record = this.autopilot.get(server.name) ?? { healthy: false, since: "" };
      const running = this.running(this.lab.dockerName(server.name));
      return {
        Name: server.name,
        Address: `${server.address}:8300`,
        SerfStatus: running ? "alive" : "failed",
        Leader: this.leader.startsWith(`${server.address}:`),
        LastContact: record.healthy ? "0s" : "10s",
        Healthy: record.healthy,
        Voter: true,
        StableSince: record.since,
      };
    });
    const healthy = servers.every((server) => server.Healthy);
    return { status: healthy ? 200 : 429, body: { Healthy: healthy, FailureTolerance: 0, Servers: servers } };
  }

  /** The leader as one look sees it: the elected one, or with leaderFlaps the next server on every look. */
  private leaderNow(): string {
    if (!this.timeline.leaderFlaps || !this.leader) return this.leader;
    const servers = this.lab.servers;
    return `${servers[this.flaps++ % servers.length].address}:8300`;
  }
  private flagLog: string[] = [];

  /** What `docker exec` runs inside the lab's containers, as far as `verify` needs. */
  private exec(container: string, command: string[]): { status: number; stdout: string } {
    this.execs.push(`${container}: ${command.join(" ")}`);
    const [program, ...args] = command;
    if (program === "nginx" && args[0] === "-T") {
      // The load balancer's own nginx, as it would load its configuration now.
      const lb = this.balancers.find((candidate) => this.lab.dockerName(candidate.node, "load-balancer") === container);
      const dumped = lb ? this.loadedConfig(lb) : "";
      return { status: dumped.includes("syntax is ok") ? 0 : 1, stdout: dumped };
    }
    if (program === "tail" && args.at(-1) === MAINTENANCE_HANDLER_LOG) {
      return { status: this.flagLog.length ? 0 : 1, stdout: this.flagLog.length ? `${this.flagLog.at(-1)}\n` : "" };
    }
    if (program === "wget" && args.at(-1)?.endsWith("/v1/status/leader")) {
      // Asked of that container's own agent: no answer while it is stopped, none known once it restarted if it cannot
      // rejoin.
      if (!this.running(container)) return { status: 1, stdout: "" };
      const restarted = this.restarted(container);
      return { status: 0, stdout: JSON.stringify(restarted && this.timeline.neverRejoins ? "" : this.leaderNow()) };
    }
    if (program === "nslookup" && this.timeline.nslookupFails) return { status: 126, stdout: "" };
    if (program === "nslookup") {
      // BusyBox's nslookup (1.36, Alpine 3.20's; networking/nslookup.c), against the real dnsmasq that stands in for
      // the node's: no reply at all is ";; connection timed out; no servers could be reached" and exit 1 (:1019); a
      // server's error code is "** server can't find NAME: CODE" and exit 1 (:636-638, since 1.31); an answer without
      // an address prints only the server (:640-646) and exits 0; addresses exit 0.
      const name = args.filter((arg) => !arg.startsWith("-"))[0];
      const result = spawnSync(
        "dig",
        [
          "+tries=1",
          "+time=1",
          "-p",
          String(this.lab.topology.publish.dnsPort),
          `@${this.lab.publishedHost}`,
          name,
          "A",
        ],
        { encoding: "utf8" },
      );
      const status = /status: ([A-Z]+)/.exec(result.stdout)?.[1];
      if (result.status !== 0 || !status)
        return { status: 1, stdout: ";; connection timed out; no servers could be reached\n\n" };
      const header = "Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n";
      if (status !== "NOERROR") return { status: 1, stdout: `${header}** server can't find ${name}: ${status}\n\n` };
      const answer = result.stdout.split(";; ANSWER SECTION:")[1]?.split("\n\n")[0] ?? "";
      const addresses = [...answer.matchAll(/\sIN\s+A\s+([0-9.]+)/g)].map((match) => match[1]);
      if (addresses.length === 0) return { status: 0, stdout: header };
      return { status: 0, stdout: `${header}Name:\t${name}\n${addresses.map((a) => `Address: ${a}`).join("\n")}\n\n` };
    }
    return { status: 127, stdout: "" };
  }

  /** Registrations the topology does not have (a fault a test injects: another token's write), by service name. */
  readonly extraInstances = new Map<string, { node: string; address: string; id: string; status: string }[]>();
  /** A lab instance rewritten in the catalog by another token (`PUT /v1/catalog/register`), by node name. */
  readonly rewrittenInstances = new Map<string, { port: number; tags: string[] }>();

  private healthOf(name: string): unknown[] {
    const { lab } = this;
    const extra = (this.extraInstances.get(name) ?? []).map((instance) => ({
      Node: { Node: instance.node, Address: instance.address },
      Service: { ID: instance.id, Service: name, Tags: [], Port: 80 },
      Checks: [{ CheckID: `${instance.id}-http`, Name: `${name} answers HTTP`, Status: instance.status, Output: "" }],
    }));
    return [
      ...extra,
      ...lab.nodes.flatMap((node) =>
        lab
          .instancesOn(node.name)
          .filter((instance) => instance.service.name === name)
          .map((instance) => {
            const passing = this.passing.get(node.name) ?? true;
            const rewritten = this.rewrittenInstances.get(node.name);
            return {
              Node: { Node: node.name, Address: node.address },
              Service: {
                ID: instance.id,
                Service: name,
                Tags: rewritten?.tags ?? instance.service.tags,
                Port: rewritten?.port ?? instance.service.port,
              },
              Checks: [
                {
                  CheckID: `${instance.id}-http`,
                  Name: `${name} answers HTTP`,
                  Status: passing ? "passing" : "critical",
                  Output: passing ? "HTTP GET: 200 OK" : "connection refused",
                },
              ],
            };
          }),
      ),
    ];
  }

  private handleApi(request: IncomingMessage, response: ServerResponse, body: string): void {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const json = (value: unknown, status = 200) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(value));
    };
    const { lab } = this;
    const token = request.headers["x-consul-token"];
    if (typeof token === "string") this.tokensSeen.add(token);
    // The published API is the publish node's agent: it does not answer while that container is stopped.
    if (!this.running(lab.dockerName(lab.publishNode.name))) return void response.socket?.destroy();
    const injected = this.apiAnswers.get(url.pathname);
    if (injected) {
      response.writeHead(injected.status, { "Content-Type": "application/json", ...injected.headers });
      return void response.end(injected.body);
    }
    if (url.pathname === "/v1/status/leader") return json(this.leaderNow());
    if (url.pathname === "/v1/operator/autopilot/health") {
      const { status, body } = this.autopilotHealth();
      return json(body, status);
    }
    if (url.pathname === "/v1/operator/raft/configuration")
      return json({ Servers: this.raftServers.map((name) => ({ Node: name, Voter: true })) });
    if (url.pathname === "/v1/agent/members") return json(lab.nodes.map((node) => ({ Name: node.name, Status: 1 })));
    if (url.pathname === "/v1/agent/self") return json({ Stats: { serf_lan: { encrypted: "true" } } });
    if (url.pathname.startsWith("/v1/health/service/")) {
      const entries = this.healthOf(url.pathname.slice("/v1/health/service/".length)) as {
        Checks: { Status: string }[];
      }[];
      return json(
        // `?passing` (with no value) filters, as Consul reads it.
        url.searchParams.has("passing")
          ? entries.filter((e) => e.Checks.every((c) => c.Status === "passing"))
          : entries,
      );
    }
    if (url.pathname.startsWith("/v1/kv/")) {
      const key = url.pathname.slice("/v1/kv/".length);
      if (request.method === "PUT") {
        if (!request.headers["x-consul-token"] && !this.timeline.anonymousWrites) return json("Permission denied", 403);
        this.kv.set(key, body);
        return json(true);
      }
      if (request.method === "DELETE") {
        this.kv.delete(key);
        return json(true);
      }
      const value = this.kv.get(key);
      if (value === undefined) return json(null, 404);
      response.writeHead(200);
      return void response.end(value);
    }
    if (url.pathname === "/ui/") {
      response.writeHead(200);
      return void response.end('<html><head><meta name="consul-ui/config/environment" content="{}"></head></html>');
    }
    json(null, 404);
  }

  async start(): Promise<void> {
    const { lab } = this;
    const { publish, site } = lab.topology;
    const serveApi = (request: IncomingMessage, response: ServerResponse) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => this.handleApi(request, response, body));
    };
    this.api = this.tls ? createHttpsServer(this.tls, serveApi) : createServer(serveApi);
    // What the lab publishes listens on publish.address, as Docker binds it; the rest is the stand-in's own.
    await listen(this.api, publish.httpPort, lab.publishedHost);
    // What the fake docker asks for `docker exec` (what runs inside a container): plain HTTP, on a port of its own.
    this.control = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        let asked: { container: string; command: string[] };
        try {
          asked = JSON.parse(body);
        } catch {
          // Answered, never thrown: a connection left open would hold stop() forever.
          response.writeHead(400);
          return void response.end(`not a JSON {container, command}: ${body}`);
        }
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end(JSON.stringify(this.exec(asked.container, asked.command)));
      });
    });
    const controlPort = await freeLoopbackPort();
    await listen(this.control, controlPort);
    this.controlUrl = `http://127.0.0.1:${controlPort}`;
    const page = (text: string) => `<!doctype html><html><body><p>${text}</p></body></html>\n`;
    // A page server per app and sorry node: it answers as its node while that node's workload runs, and drops the
    // connection otherwise, as a stopped container's address does.
    for (const kind of ["app", "sorry"] as const) {
      for (const node of lab.nodesRunning(kind)) {
        const text =
          kind === "app"
            ? `Served by app server ${node.name} (${node.address}).`
            : `Sorry, no app server is available. Served by ${node.name} (${node.address}).`;
        const server = createServer((_request, response) => {
          if (!this.running(lab.dockerName(node.name, kind))) return void response.socket?.destroy();
          response.end(page(this.wrongPage.has(node.name) ? "Welcome to nginx!" : text));
        });
        const port = await freeLoopbackPort();
        await listen(server, port);
        this.pages.set(node.name, { server, port });
      }
    }
    // A real nginx per load balancer, on the config its template renders first.
    for (const node of lab.nodesRunning("load-balancer")) {
      const lb: LoadBalancerStandIn = { node: node.name, port: await freeLoopbackPort(), config: "", renderedFrom: "" };
      this.balancers.push(lb);
      this.render(lb);
      lb.lastInputs = lb.renderedFrom;
      lb.nginx = await startNginx(lb.config, lb.port);
    }
    this.nginx = await startNginx(
      [
        // As renderers/entry-point.ts: every load balancer, the next one tried when one does not answer.
        "upstream site {",
        ...this.balancers
          .filter((lb) => !this.entryBalancers || this.entryBalancers.includes(lb.node))
          .map((lb) => `    server 127.0.0.1:${lb.port} max_fails=0;`),
        "}",
        "server {",
        `    listen ${lab.publishedHost}:${publish.entryPort} default_server;`,
        "    location / { proxy_pass http://site; proxy_next_upstream error timeout http_502; }",
        "}",
        "server {",
        `    listen ${lab.publishedHost}:${publish.entryPort};`,
        `    server_name ${site.consulUiHostname};`,
        // As renderers/consul-ui-vhost.ts: a secure lab's UI vhost only redirects to the published HTTPS API.
        this.tls
          ? `    return 308 https://${site.consulUiHostname}:${publish.httpPort}$request_uri;`
          : `    location / { proxy_pass http://${lab.publishedHost}:${publish.httpPort}; }`,
        "}",
      ].join("\n"),
      publish.entryPort,
      lab.publishedHost,
    );
    this.hostsFile = join(this.dir, "consul.hosts");
    this.writeDnsHosts();
    this.dnsmasqConfig = [
      `listen-address=${lab.publishedHost}`,
      "bind-interfaces",
      `port=${publish.dnsPort}`,
      "no-resolv",
      "no-hosts",
      `addn-hosts=${this.hostsFile}`,
    ].join("\n");
    this.dnsmasq = await startDnsmasq(this.dnsmasqConfig, publish.dnsPort, lab.publishedHost);
    this.observe(true);
    this.poller = setInterval(() => {
      this.observe();
      this.updateAutopilot();
      const now = Date.now();
      for (const lb of this.balancers) {
        // Not while its nginx starts or stops: the render it starts with must be the one it runs.
        if (!lb.switching) {
          try {
            this.templateStep(lb, now);
          } catch (error) {
            // A timer cannot fail a test by throwing: kept, and stop() reports it.
            this.templateErrors.push((error as Error).message);
          }
        }
        void this.followBalancer(lb);
      }
      void this.followPublishAgent();
    }, 50);
  }

  /** A published DNS port that answers junk (a fault a test injects), on UDP and TCP. */
  private junkDns?: { udp: ReturnType<typeof createUdpSocket>; tcp: Server; sockets: Set<Socket> };

  /** The published DNS port answers every query with bytes that are no DNS message, on UDP and TCP. */
  async answerDnsWithJunk(): Promise<void> {
    while (this.switchingDns) await new Promise((resolve) => setTimeout(resolve, 20));
    this.switchingDns = true;
    const port = this.lab.topology.publish.dnsPort;
    await this.dnsmasq?.stop();
    this.dnsmasq = undefined;
    const junk = Buffer.from([1, 2, 3]);
    const udp = createUdpSocket("udp4");
    udp.on("message", (_message, from) => udp.send(junk, from.port, from.address));
    await new Promise<void>((resolve) => udp.bind(port, this.lab.publishedHost, resolve));
    const sockets = new Set<Socket>();
    const tcp = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      socket.end(Buffer.concat([Buffer.from([0, junk.length]), junk]));
    });
    await new Promise<void>((resolve) => tcp.listen(port, this.lab.publishedHost, resolve));
    this.junkDns = { udp, tcp, sockets };
    this.switchingDns = false;
  }

  private dnsmasqConfig = "";
  private hostsFile = "";

  /**
   * The names Consul's DNS answers, as hosts lines for the dnsmasq that plays it: every node; the load balancers'
   * service; and the site's prepared query with the app servers that pass, as Consul answers a service or a query
   * with its healthy instances only (agent/dns.go leaves out an instance with a critical check).
   */
  private writeDnsHosts(): void {
    // Before start() there is no dnsmasq yet: it writes the file then.
    if (!this.hostsFile) return;
    const { lab } = this;
    const { site } = lab.topology;
    const domain = lab.topology.consul.domain;
    const lbTag = lab.topology.services.find((service) => service.name === site.loadBalancerService)?.tags[0];
    writeFileSync(
      this.hostsFile,
      [
        ...lab.nodes.map((node) => `${node.address} ${node.name}.node.${domain}`),
        ...lab
          .nodesRunning("load-balancer")
          .map(
            (node) =>
              `${node.address} ${site.loadBalancerService}.service.${domain}${lbTag ? ` ${lbTag}.${site.loadBalancerService}.service.${domain}` : ""}`,
          ),
        ...lab
          .nodesRunning("app")
          .filter((node) => this.passing.get(node.name) ?? true)
          .map((node) => `${node.address} ${site.service}.query.${domain}`),
        "",
      ].join("\n"),
    );
  }
  /** Docker's proxy on the published DNS port while the publish agent is down: accepts, then closes. */
  private dnsProxy?: Server;
  private switchingDns = false;

  /** Consul's published DNS answers only while the publish node's agent runs, as on a real host. */
  private async followPublishAgent(): Promise<void> {
    if (this.switchingDns || this.junkDns) return;
    const up = this.running(this.lab.dockerName(this.lab.publishNode.name));
    const port = this.lab.topology.publish.dnsPort;
    this.switchingDns = true;
    try {
      if (!up && this.dnsmasq) {
        await this.dnsmasq.stop();
        this.dnsmasq = undefined;
        // As Docker's proxy with nothing behind it: the connection is accepted, then dropped.
        const proxy = createNetServer((socket) => socket.destroy());
        await new Promise<void>((resolve) => proxy.listen(port, this.lab.publishedHost, resolve));
        this.dnsProxy = proxy;
      } else if (up && this.dnsProxy) {
        const proxy = this.dnsProxy;
        await new Promise((resolve) => proxy.close(resolve));
        this.dnsProxy = undefined;
        this.dnsmasq = await startDnsmasq(this.dnsmasqConfig, port, this.lab.publishedHost);
      }
    } finally {
      this.switchingDns = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.poller);
    this.timers.forEach(clearTimeout);
    while (this.switchingDns) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.nginx?.stop();
    while (this.balancers.some((lb) => lb.switching)) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const lb of this.balancers) await lb.nginx?.stop();
    await this.dnsmasq?.stop();
    if (this.dnsProxy) await close(this.dnsProxy);
    if (this.junkDns) {
      this.junkDns.udp.close();
      for (const socket of this.junkDns.sockets) socket.destroy();
      await close(this.junkDns.tcp);
    }
    for (const server of [this.api, this.control, ...[...this.pages.values()].map((page) => page.server)])
      if (server) await close(server);
    if (this.templateErrors.length > 0)
      throw new Error(`the stand-in's template step failed: ${this.templateErrors.join("; ")}`);
  }
}
