/**
 * Autopilot's view of the servers (`/v1/operator/autopilot/health`), and the one rule for "a server is back": the
 * raft configuration alone cannot say it, because Consul keeps a failed server there as a voter until autopilot
 * removes it.
 *
 * What Consul answers (1.20): agent/operator_endpoint.go `OperatorServerHealth` writes HTTP 429 with the same JSON
 * body while anything is unhealthy, and each server's `StableSince` rounded to the second, in UTC;
 * raft-autopilot's state.go resets a server's StableSince whenever its Healthy value changes or it is new to the
 * leader's autopilot (a new leader starts a new state), and keeps a server's last stats when they cannot be fetched,
 * so a server gone for less than Serf's failure detection (a few seconds) may never be seen unhealthy. The drill's
 * outages are longer (a new leader's election; a host's 10 s window), so it asks to see the change; the deploy's
 * gate, after a quick replacement, cannot (cli/rolling-servers.ts).
 */
import type { ConsulApi } from "./consul-api";
import { HOLDS, notYet, type Verdict } from "../shared/verdict";

export interface AutopilotServerHealth {
  readonly Name: string;
  readonly Healthy: boolean;
  readonly Voter: boolean;
  readonly SerfStatus?: string;
  readonly LastContact?: string;
  /** RFC 3339, to the second: when Healthy last changed (or the leader's autopilot first saw the server). */
  readonly StableSince?: string;
}

export interface AutopilotHealth {
  readonly Healthy: boolean;
  readonly Servers: readonly AutopilotServerHealth[];
}

/** Autopilot's health, from a 200 or a 429 answer alike; anything else throws with what came back. */
export async function readAutopilotHealth(api: ConsulApi): Promise<AutopilotHealth> {
  const answer = await api.request<AutopilotHealth>("GET", "/v1/operator/autopilot/health");
  if ((answer.status !== 200 && answer.status !== 429) || typeof answer.body?.Healthy !== "boolean")
    throw new Error(`autopilot health: HTTP ${answer.status} ${answer.text.trim().slice(0, 200)}`);
  return { Healthy: answer.body.Healthy, Servers: answer.body.Servers ?? [] };
}

/** Each server's StableSince by name: what a return is later compared with. */
export function stableSinceByName(health: AutopilotHealth): Map<string, string> {
  return new Map(health.Servers.map((server) => [server.Name, server.StableSince ?? ""]));
}

/**
 * Whether `node` is back as autopilot sees it: healthy, a voter, and its health changed since `before` (its
 * StableSince read while it was still up), so autopilot saw it go and come back rather than a record from before it
 * left.
 */
export function serverBack(health: AutopilotHealth, node: string, before: string | undefined): Verdict {
  const own = health.Servers.find((server) => server.Name === node);
  if (!own) return notYet("absent from autopilot's health");
  if (!own.Healthy) return notYet(`unhealthy (serf ${own.SerfStatus ?? "?"}, last contact ${own.LastContact ?? "?"})`);
  if (!own.Voter) return notYet("healthy, not a voter");
  if (before !== undefined && own.StableSince === before)
    return notYet(`healthy since ${before}, before it left: autopilot has not seen it go`);
  return HOLDS;
}
