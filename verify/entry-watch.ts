/**
 * The site's entry, asked continuously during a drill step: a few requests in flight at once, so one slow answer
 * hides no others, each recorded with when it was sent and answered and who answered. The drill reads its rows and
 * the report's timeline from these records.
 */
import { SITE_REQUEST_TIMEOUT_MS } from "../shared/lab-contract";
import { fetchSitePage } from "../runtime/site-page";

export interface EntryRequest {
  /** Milliseconds since the epoch. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** Who answered: an app server's page, the sorry page, or neither (an error, a timeout, another page). */
  readonly kind: "app" | "sorry" | "failed";
  readonly node?: string;
  /** The HTTP status, when an answer came at all. */
  readonly status?: number;
  /** Why a failed request failed: no answer, or which answer. */
  readonly failure?: string;
}

/** A request as a row says it: "an app page", "the sorry page", or what came instead. */
export function describeAnswer(request: EntryRequest): string {
  if (request.kind === "app") return "an app page";
  if (request.kind === "sorry") return "the sorry page";
  return request.failure ?? "a failed request";
}

/** Requests in flight at once. */
export const ENTRY_WORKERS = 3;
/** The longest one request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = SITE_REQUEST_TIMEOUT_MS;

export class EntryWatch {
  readonly requests: EntryRequest[] = [];
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(
    private readonly entryUrl: string,
    private readonly pollMs: number,
  ) {
    // Staggered, so the requests spread over each poll interval.
    this.workers = Array.from({ length: ENTRY_WORKERS }, (_, index) => this.work((index * pollMs) / ENTRY_WORKERS));
  }

  private async work(offsetMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, offsetMs));
    while (this.running) {
      const sentAt = Date.now();
      let answer: Omit<EntryRequest, "sentAt" | "answeredAt">;
      try {
        const page = await fetchSitePage(this.entryUrl, undefined, REQUEST_TIMEOUT_MS);
        answer =
          page.kind === "other"
            ? {
                kind: "failed",
                status: page.status,
                failure: `HTTP ${page.status} with neither an app nor the sorry page`,
              }
            : { kind: page.kind, node: page.node, status: page.status };
      } catch (error) {
        // Refused, cut or timed out: no answer.
        answer = { kind: "failed", failure: `no answer (${(error as Error).message})` };
      }
      this.requests.push({ sentAt, answeredAt: Date.now(), ...answer });
      if (this.running) await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** The last answer received, if any. */
  latest(): EntryRequest | undefined {
    return this.requests.reduce<EntryRequest | undefined>(
      (last, request) => (!last || request.answeredAt > last.answeredAt ? request : last),
      undefined,
    );
  }

  /** Requests sent at or after `from`: the window a step judges. */
  since(from: number): EntryRequest[] {
    return this.requests.filter((request) => request.sentAt >= from);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }
}

/**
 * The requests a step's verdict on the entry counts: every one answered after its action was sent, so one already in
 * flight that fails after the action counts too. The drill's row and the report's summary both count these.
 */
export function judgedRequests(requests: readonly EntryRequest[], actionSentAt: number): EntryRequest[] {
  return requests.filter((request) => request.answeredAt >= actionSentAt);
}

/**
 * "0 of 28 requests failed", or "2 of 28 requests failed: 1 with no answer, 1 with HTTP 502 ...", counted over the
 * requests answered from `from` (the action's sending) on.
 */
export function describeFailures(watch: EntryWatch, from: number): { failed: number; total: number; text: string } {
  const window = judgedRequests(watch.requests, from);
  const failures = window.filter((request) => request.kind === "failed");
  const byKind = new Map<string, number>();
  for (const request of failures) {
    // Grouped by what came, not by each error's own words.
    const what = request.status === undefined ? "with no answer" : `with HTTP ${request.status} and another page`;
    byKind.set(what, (byKind.get(what) ?? 0) + 1);
  }
  const detail = [...byKind].map(([what, count]) => `${count} ${what}`).join(", ");
  return {
    failed: failures.length,
    total: window.length,
    text: `${failures.length} of ${window.length} requests failed${detail ? `: ${detail}` : ""}`,
  };
}
