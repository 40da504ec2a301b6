/**
 * One poll loop per drill step: every tick asks every condition not yet reached, all at once, and records when each
 * first held. A condition's moment lies between the last tick that saw it not hold and the first that saw it hold, so
 * each result carries that resolution ("0.8 s ± 0.2"). Times count from the action being sent; the first look comes
 * only once it returned, so what held at that look held somewhere within the action's own time, and says so. Nothing
 * is asked after the deadline, and an answer that comes after it does not count.
 */
import { HOLDS, notYet, type Verdict } from "../shared/verdict";

export interface Condition {
  /** What must hold, as the report says it. */
  readonly expected: string;
  readonly check: () => Promise<Verdict>;
}

export interface Measurement {
  readonly expected: string;
  /** Seconds from `from` to the moment it first held (the middle of the interval it is known to lie in). */
  readonly seconds?: number;
  /** Half that interval, in seconds. */
  readonly resolution?: number;
  /** The last thing seen while it did not hold. */
  readonly last: string;
  /** It held at the first look, taken when the action returned: within the action's own time, no closer. */
  readonly atFirstLook?: boolean;
}

export interface MeasureOptions {
  /** Counted from `deadlineFrom`, or from `from`. */
  readonly deadlineMs: number;
  /** When the deadline starts (the action's return: a slow action does not eat the step's time). */
  readonly deadlineFrom?: number;
  readonly pollMs: number;
  /** Called after each tick with the seconds since `from` and what is still awaited. */
  readonly onTick?: (seconds: number, waiting: string) => void;
  /** Ends the loop early (a signal arrived). */
  readonly aborted?: () => boolean;
}

const NO_ANSWER = Symbol("no answer by the deadline");
const NOT_ASKED = "not asked yet";

/** Measures every condition from `from` (milliseconds since the epoch, when the step's action was sent). */
export async function measure(
  conditions: readonly Condition[],
  from: number,
  options: MeasureOptions,
): Promise<Measurement[]> {
  const deadline = (options.deadlineFrom ?? from) + options.deadlineMs;
  const state = conditions.map(() => ({
    lastFalseAt: from,
    firstTrueAt: undefined as number | undefined,
    last: NOT_ASKED,
  }));
  while (state.some((entry) => entry.firstTrueAt === undefined) && !options.aborted?.()) {
    const tickStart = Date.now();
    if (tickStart >= deadline) break;
    let timer: NodeJS.Timeout | undefined;
    const atDeadline = new Promise<typeof NO_ANSWER>((resolve) => {
      timer = setTimeout(() => resolve(NO_ANSWER), deadline - tickStart);
    });
    const answers = await Promise.all(
      conditions.map(async (condition, index) => {
        if (state[index].firstTrueAt !== undefined) return HOLDS;
        try {
          return await Promise.race([condition.check(), atDeadline]);
        } catch (error) {
          return notYet((error as Error).message);
        }
      }),
    );
    clearTimeout(timer);
    const tickEnd = Date.now();
    answers.forEach((answer, index) => {
      const entry = state[index];
      if (entry.firstTrueAt !== undefined) return;
      if (answer !== NO_ANSWER && answer.holds && tickEnd <= deadline) entry.firstTrueAt = tickEnd;
      // Cut off by the deadline: what was last seen still stands, and says more than the cut.
      else if (answer === NO_ANSWER || answer.holds) {
        if (entry.last === NOT_ASKED) entry.last = "no answer by the deadline";
      } else {
        entry.last = answer.seen;
        entry.lastFalseAt = tickStart;
      }
    });
    const waiting = conditions.filter((_, index) => state[index].firstTrueAt === undefined);
    if (waiting.length === 0) break;
    options.onTick?.(
      (tickEnd - from) / 1000,
      waiting.map((condition) => `${condition.expected}: ${state[conditions.indexOf(condition)].last}`).join("; "),
    );
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
  return conditions.map((condition, index) => {
    const { firstTrueAt, lastFalseAt, last } = state[index];
    if (firstTrueAt === undefined) return { expected: condition.expected, last };
    return {
      expected: condition.expected,
      seconds: ((lastFalseAt + firstTrueAt) / 2 - from) / 1000,
      resolution: (firstTrueAt - lastFalseAt) / 2 / 1000,
      last,
      ...(last === NOT_ASKED ? { atFirstLook: true } : {}),
    };
  });
}

/**
 * "after 0.8 s ± 0.2", "already held when the action returned (within its 1.5 s)" when `actionSeconds` is given and it
 * held at the first look, or why it never held.
 */
export function describeMeasurement(measurement: Measurement, actionSeconds?: number): string {
  if (measurement.seconds === undefined) return `not by the deadline (last: ${measurement.last})`;
  // An action too quick to show in tenths is no interval of its own: the plain measurement says it.
  if (measurement.atFirstLook && actionSeconds !== undefined && actionSeconds >= 0.05)
    return `already held when the action returned (within its ${actionSeconds.toFixed(1)} s)`;
  return `after ${measurement.seconds.toFixed(1)} s ± ${Math.max(measurement.resolution ?? 0, 0.05).toFixed(1)}`;
}
