/**
 * How long a real lab takes for each thing the drill waits on, from the defaults it runs with, with the source of
 * each. docs/verify.md's "expect on a real host" is written from this table (realHostExpectations, checked by a test),
 * and the stand-in lab of the tests plays the same table scaled down (tools/lab-stand-in.ts).
 */
import type { Lab } from "../topology";
import { goDurationMs } from "../topology/go-duration";

export interface LabTimings {
  /** Each app server's HTTP check runs on its own interval (the topology's `check.interval`, default 10s). */
  readonly checkIntervalMs: number;
  /**
   * A check's status change is synced to the servers at once (Consul agent/local/state.go: a status change triggers
   * an immediate sync, not the periodic anti-entropy), and the watch's blocking query returns at once: 0.
   */
  readonly statusToWatchMs: number;
  /** consul-template's quiescence, `wait` min and max (the topology's consulTemplate.wait, default 2s and 10s). */
  readonly templateWaitMinMs: number;
  readonly templateWaitMaxMs: number;
  /**
   * A new leader after the leader stops: servers do not leave on SIGTERM (`leave_on_terminate` is false for servers),
   * so the others wait out raft's heartbeat and election timeouts, 1 s each times the default raft_multiplier 5,
   * plus a randomized part: about 5 to 12 s.
   */
  readonly electionMinMs: number;
  readonly electionMaxMs: number;
  /** `docker stop` of a workload: its process ends on SIGTERM (nginx quits at once); about a second with Docker's own work. */
  readonly dockerStopMs: number;
}

/** The table for a lab, at full scale. */
export function labTimings(lab: Lab): LabTimings {
  const appService = lab.topology.services.find((service) => service.name === lab.topology.site.service);
  const wait = lab.topology.consulTemplate.wait;
  return {
    checkIntervalMs: goDurationMs(appService?.check.interval ?? "10s"),
    statusToWatchMs: 0,
    templateWaitMinMs: goDurationMs(wait.min),
    templateWaitMaxMs: goDurationMs(wait.max),
    electionMinMs: 5_000,
    electionMaxMs: 12_000,
    dockerStopMs: 1_000,
  };
}

/** Every figure of a table multiplied by `factor` (the stand-in runs ten times faster than a real lab). */
export function scaledTimings(timings: LabTimings, factor: number): LabTimings {
  return Object.fromEntries(Object.entries(timings).map(([key, ms]) => [key, ms * factor])) as unknown as LabTimings;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** What to expect of the drill on a real host, in the words of docs/verify.md, from the table. */
export function realHostExpectations(timings: LabTimings): string {
  return [
    "the sorry page within about a second of the app servers stopping (nginx falls back to its backup server when",
    "the app servers refuse connections);",
    `the flag \`on\` within 0 to ${seconds(timings.checkIntervalMs + timings.statusToWatchMs)} (one check interval: a status change`,
    "is synced to the servers at once, and the watch returns at once);",
    `the upstreams rewritten ${seconds(timings.templateWaitMinMs)} to ${seconds(timings.templateWaitMaxMs)} after the health changed`,
    "(consul-template's quiescence);",
    `a new leader ${seconds(timings.electionMinMs)} to ${seconds(timings.electionMaxMs)} after the leader stops (servers do not leave on`,
    "SIGTERM, and raft waits out its timeouts at multiplier 5);",
    "and no failed request at the entry in any step.",
  ].join(" ");
}
