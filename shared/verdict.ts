/**
 * What a condition answers when it is asked (a drill step's expectation, the deploy's rolling gate): it holds, or it
 * does not yet, with what was seen instead, which the report shows as "last seen".
 */
export type Verdict = { readonly holds: true } | { readonly holds: false; readonly seen: string };

/** The condition holds. */
export const HOLDS: Verdict = { holds: true };

/** The condition does not hold yet; `seen` is what was seen instead. */
export function notYet(seen: string): Verdict {
  return { holds: false, seen };
}

/** HOLDS when `passes`, else not yet with `seen`. */
export function verdict(passes: boolean, seen: string): Verdict {
  return passes ? HOLDS : notYet(seen);
}
