/**
 * The timed-step runner the drill is made of: a step checks where it starts (its preconditions) and fails without
 * acting when the lab is not there; acts, recording when the action was sent and when it returned; then measures, in
 * one poll loop once the action returned, when each expected state first held, counted from the action being sent,
 * while the entry is asked continuously with a few requests in flight. The article's steps are in drill.ts.
 */
import type { Lab } from "../topology";
import type { ConsulApi } from "../runtime/consul-api";
import type { LabContainers } from "../runtime/lab-containers";
import { describeFailures, EntryRequest, EntryWatch } from "./entry-watch";
import { Condition, describeMeasurement, measure, Measurement } from "./measure";
import type { Progress } from "./progress";
import { notYet, verdict } from "../shared/verdict";

export interface DrillRow {
  readonly step: string;
  readonly expected: string;
  readonly seen: string;
  /** Seconds from the step's action being sent until the expected state; undefined when it never came. */
  readonly seconds?: number;
  /** The measurement's resolution: the state came within `seconds ± resolution`. */
  readonly resolution?: number;
  readonly ok: boolean;
}

/** What the report's timeline draws for one step (see report-html.ts). */
export interface DrillTimeline {
  readonly step: string;
  /** Milliseconds since the epoch. */
  readonly actionSentAt: number;
  readonly actionReturnedAt: number;
  readonly deadlineAt: number;
  readonly requests: readonly EntryRequest[];
  /** When each expected state first held, in seconds from the action being sent. */
  readonly marks: readonly { readonly label: string; readonly seconds: number }[];
}

export interface DrillOptions {
  /** The longest any step waits, in seconds. @default 60 */
  readonly deadlineSeconds: number;
  /** How long the entry is watched while a load balancer is down. @default 10 */
  readonly windowSeconds: number;
  /** How often each in-flight worker asks the entry, and the poll interval, in milliseconds. @default 100 */
  readonly pollMs: number;
}

export interface DrillContext {
  readonly lab: Lab;
  readonly api: ConsulApi;
  readonly containers: LabContainers;
  readonly entryUrl: string;
  readonly progress: Progress;
  readonly options: DrillOptions;
  /** True once a signal asked the drill to stop. */
  readonly aborted: () => boolean;
}

export interface StepResult {
  readonly rows: DrillRow[];
  readonly timeline?: DrillTimeline;
}

/** Checks every precondition once; the ones that do not hold, with what was seen. */
async function unmet(conditions: Condition[]): Promise<string[]> {
  const answers = await Promise.all(
    conditions.map(async (condition) => {
      try {
        return await condition.check();
      } catch (error) {
        return notYet((error as Error).message);
      }
    }),
  );
  return answers.flatMap((answer, index) =>
    answer.holds ? [] : [`${conditions[index].expected} (seen: ${answer.seen})`],
  );
}

const rowOf = (step: string, measurement: Measurement, actionSeconds: number, extra = ""): DrillRow => ({
  step,
  expected: measurement.expected,
  seen: `${describeMeasurement(measurement, actionSeconds)}${extra}`,
  seconds: measurement.seconds,
  resolution: measurement.resolution,
  ok: measurement.seconds !== undefined,
});

/**
 * The skeleton every step shares: preconditions, the action (timed), one measured poll loop from its return, the
 * entry watched throughout, and a row saying how many requests failed in the whole window.
 */
export async function timedStep(
  context: DrillContext,
  step: string,
  spec: {
    preconditions: (watch: EntryWatch) => Condition[];
    action: () => Promise<void>;
    conditions: (watch: EntryWatch, from: number) => Condition[];
    /** The entry must keep answering: every request from the action on is an app or sorry page. */
    entryMustAnswer?: string;
  },
): Promise<StepResult> {
  const { options } = context;
  const watch = new EntryWatch(context.entryUrl, options.pollMs);
  try {
    // A first answer for the preconditions that read the entry.
    const ready = Date.now();
    await measure(
      [{ expected: "an answer at the entry", check: async () => verdict(watch.latest() !== undefined, "none") }],
      ready,
      {
        deadlineMs: 5_000,
        pollMs: options.pollMs,
      },
    );
    if (context.aborted()) return { rows: [] };
    const missing = await unmet(spec.preconditions(watch));
    if (missing.length > 0) {
      return {
        rows: [
          { step, expected: "the lab is where this step starts", seen: `not so: ${missing.join("; ")}`, ok: false },
        ],
      };
    }
    // A signal during the preconditions: the restore has begun, and this step must not act any more.
    if (context.aborted()) return { rows: [] };
    const sentAt = Date.now();
    await spec.action();
    const returnedAt = Date.now();
    // Counted from the send: what happens while Docker is still returning happens after 0 s, not before it.
    const measured = await measure(spec.conditions(watch, sentAt), sentAt, {
      deadlineFrom: returnedAt,
      deadlineMs: options.deadlineSeconds * 1000,
      pollMs: options.pollMs,
      aborted: context.aborted,
      onTick: (seconds, waiting) => context.progress.tick(step, seconds, waiting),
    });
    context.progress.done();
    await watch.stop();
    const actionSeconds = (returnedAt - sentAt) / 1000;
    const actionTook = `; the action took ${actionSeconds.toFixed(1)} s`;
    // A signal cut the measuring short: what had not happened by then was not given its deadline.
    const cut = context.aborted();
    const rows = measured.map((measurement, index) =>
      cut && measurement.seconds === undefined
        ? { step, expected: measurement.expected, seen: `interrupted (last: ${measurement.last})`, ok: false }
        : rowOf(step, measurement, actionSeconds, index === 0 ? actionTook : ""),
    );
    if (spec.entryMustAnswer) {
      const failures = describeFailures(watch, sentAt);
      rows.push({
        step,
        expected: spec.entryMustAnswer,
        seen: `${failures.text} (neither an app nor the sorry page, from the action being sent to the step's end)`,
        ok: failures.failed === 0 && failures.total > 0,
      });
    }
    return {
      rows,
      timeline: {
        step,
        actionSentAt: sentAt,
        actionReturnedAt: returnedAt,
        deadlineAt: returnedAt + options.deadlineSeconds * 1000,
        requests: [...watch.requests],
        marks: measured.flatMap((m) => (m.seconds === undefined ? [] : [{ label: m.expected, seconds: m.seconds }])),
      },
    };
  } finally {
    await watch.stop();
  }
}

/** Holds once the entry has been watched for the sample window, from the action being sent: a step measured by it. */
export function windowWatched(context: DrillContext, from: number): Condition {
  return {
    expected: `${WINDOW_WATCHED} ${context.options.windowSeconds} s`,
    check: async () => verdict(Date.now() - from >= context.options.windowSeconds * 1000, "watching"),
  };
}
const WINDOW_WATCHED = "the entry was watched for";

/** A step measured by its window keeps only its verdicts: the window's own row says nothing. */
export const withoutWindowRow = (result: StepResult): StepResult => ({
  ...result,
  rows: result.rows.filter((row) => !row.expected.startsWith(WINDOW_WATCHED)),
});

/** Whether a step acted: one whose preconditions failed, or that was cut short before acting, has no timeline. */
export const acted = (result: StepResult) => result.timeline !== undefined;

/** The row of a step that would undo `undone`'s action, which never happened: running it would pass at once. */
export const notRunRow = (step: string, undone: string): DrillRow => ({
  step,
  expected: "the step it undoes acted",
  seen: `not run: "${undone}" did not act`,
  ok: false,
});
