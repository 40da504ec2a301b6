/**
 * Go's `time.ParseDuration`, which reads every duration in the agent and consul-template configs: an optional sign,
 * then one or more decimal numbers (fractions allowed) each with a unit (ns, us, µs, ms, s, m, h); "0" alone is
 * zero. The value must fit Go's int64 nanoseconds. Returns the duration in nanoseconds as a bigint, or undefined
 * when Go would refuse the text.
 */
const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NANOS = 2n ** 63n - 1n;

export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") return undefined;
  let total = 0n;
  while (rest !== "") {
    const match = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!match || (match[1] === "" && (match[2] ?? "") === "")) return undefined;
    const [whole, integer, fraction = "", unit] = match;
    const scale = UNIT_NANOS[unit];
    // Go truncates a fraction below a nanosecond, as this does.
    let nanos = BigInt(integer || "0") * scale;
    if (fraction !== "") nanos += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
    total += nanos;
    if (total > MAX_NANOS + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Milliseconds of a duration Go accepts (0 for one it would refuse, which the schema reports first). */
export function goDurationMs(text: string): number {
  const nanos = parseGoDuration(text);
  return nanos === undefined ? 0 : Number(nanos) / 1e6;
}

/**
 * Go's `time.Duration.String()`: the form a Go program prints a duration in, and the one the Consul provider reads
 * autopilot durations back as (`1m` comes back `1m0s`), so a topology written in another form would plan a change on
 * every run. Under a second it uses the largest of ns, µs and ms that keeps a whole part; from a second on, h, m and
 * s with the seconds' fraction, trailing zeros dropped.
 */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return "0s";
  const sign = nanos < 0n ? "-" : "";
  const value = nanos < 0n ? -nanos : nanos;
  const withFraction = (whole: bigint, fraction: bigint, digits: number) => {
    const fractionText = fraction.toString().padStart(digits, "0").replace(/0+$/, "");
    return fractionText === "" ? whole.toString() : `${whole}.${fractionText}`;
  };
  if (value < 1_000n) return `${sign}${value}ns`;
  if (value < 1_000_000n) return `${sign}${withFraction(value / 1_000n, value % 1_000n, 3)}µs`;
  if (value < 1_000_000_000n) return `${sign}${withFraction(value / 1_000_000n, value % 1_000_000n, 6)}ms`;
  const hours = value / 3_600_000_000_000n;
  const minutes = (value / 60_000_000_000n) % 60n;
  const seconds = withFraction((value / 1_000_000_000n) % 60n, value % 1_000_000_000n, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** A duration Go accepts, in the form Go prints it (see formatGoDuration); the text itself when Go would refuse it. */
export function canonicalGoDuration(text: string): string {
  const nanos = parseGoDuration(text);
  return nanos === undefined ? text : formatGoDuration(nanos);
}
