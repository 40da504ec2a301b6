/** One line of the doctor: a check, what was seen, and the fix for a problem. */
export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  /** What was seen: a version, an address, the cause of a problem. */
  readonly detail: string;
  /** What to do about a problem. */
  readonly fix?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, ok: true, detail });
export const problem = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  ok: false,
  detail,
  fix,
});
