/**
 * The site's entry, asked continuously during a drill step: a few requests in flight at once, so one slow answer
 * hides no others, each recorded with when it was sent and answered and who answered. The drill reads its rows and
 * the report's timeline from these records.
 */
import { SITE_REQUEST_TIMEOUT_MS } from "../shared/lab-contract";
import { fetchSitePage } from "./site-page";

export interface EntryRequest {
  /** Milliseconds since the epoch. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** Who answered: an app server's page, the sorry page, or neither (an error, a timeout, another page). */
  readonly kind: "app" | "sorry" | "failed";
  readonly node?: string;
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
      let kind: EntryRequest["kind"] = "failed";
      let node: string | undefined;
      try {
        const page = await fetchSitePage(this.entryUrl, undefined, REQUEST_TIMEOUT_MS);
        if (page.kind !== "other") [kind, node] = [page.kind, page.node];
      } catch {
        // Refused, cut or timed out: a failed request.
      }
      this.requests.push({ sentAt, answeredAt: Date.now(), kind, node });
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

/** "0 of 28 requests failed", counted over the requests answered from `from` (the action's sending) on. */
export function describeFailures(watch: EntryWatch, from: number): { failed: number; total: number; text: string } {
  const window = judgedRequests(watch.requests, from);
  const failed = window.filter((request) => request.kind === "failed").length;
  return { failed, total: window.length, text: `${failed} of ${window.length} requests failed` };
}
