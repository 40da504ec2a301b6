/** The duration parser against Go's own time.ParseDuration, which reads these values in Consul and consul-template. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatGoDuration, parseGoDuration } from "../topology/go-duration";
import { articleInput, labOf, problemsOf } from "./tools/helpers";

const SAMPLES = [
  "0",
  "0s",
  "10s",
  "1.5s",
  ".5s",
  "5.s",
  "1m30s",
  "1h2m3s4ms5us6ns",
  "300ms",
  "1µs",
  "2562047h",
  "2562048h",
  "9999999999h",
  "-5s",
  "+5s",
  "",
  "s",
  "10",
  "10 s",
  "1.5.5s",
  "10S",
  "1d",
  "9223372036854775807ns",
  "9223372036854775808ns",
  "0.000000001s",
  "0.0000000001s",
  "1e3s",
  "00010s",
];

/** What Go says of each sample: its nanoseconds and Duration.String(), or "error". */
function goVerdicts(samples: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-go-duration-"));
  writeFileSync(
    join(dir, "main.go"),
    [
      "package main",
      'import ("encoding/json"; "fmt"; "os"; "time")',
      "func main() {",
      "  var samples []string",
      "  json.Unmarshal([]byte(os.Args[1]), &samples)",
      "  for _, s := range samples {",
      "    d, err := time.ParseDuration(s)",
      '    if err != nil { fmt.Println("error") } else { fmt.Println(int64(d), d.String()) }',
      "  }",
      "}",
    ].join("\n"),
  );
  const result = spawnSync("go", ["run", join(dir, "main.go"), JSON.stringify(samples)], {
    encoding: "utf8",
    env: { ...process.env, GO111MODULE: "off", GOCACHE: join(tmpdir(), "consul-lab-go-cache") },
  });
  expect(result.stderr).toBe("");
  return result.stdout.trimEnd().split("\n");
}

describe("Go durations", () => {
  jest.setTimeout(60_000);

  it("are accepted and valued exactly as Go's time.ParseDuration does", () => {
    const ours = SAMPLES.map((sample) => {
      const nanos = parseGoDuration(sample);
      return nanos === undefined ? "error" : nanos.toString();
    });
    expect(ours).toEqual(goVerdicts(SAMPLES).map((verdict) => verdict.split(" ")[0]));
  });

  it("are printed exactly as Go's Duration.String() prints them, the form providers read them back in", () => {
    const printed = [...SAMPLES, "1m", "90s", "1000ms", "0.5s", "1h0m0.5s", "1.000001s", "59.999999999s", "-1m"];
    const verdicts = goVerdicts(printed);
    const ours = printed.map((sample) => {
      const nanos = parseGoDuration(sample);
      return nanos === undefined ? "error" : `${nanos} ${formatGoDuration(nanos)}`;
    });
    expect(ours).toEqual(verdicts);
    expect(verdicts).toContain("60000000000 1m0s");
  });

  it("keep the autopilot's durations in the form the Consul provider reads back", () => {
    const input = articleInput();
    (input as any).autopilot = { lastContactThreshold: "1000ms", serverStabilizationTime: "1m" };
    const lab = labOf(input);
    expect(lab.topology.autopilot).toMatchObject({
      lastContactThreshold: "1s",
      serverStabilizationTime: "1m0s",
    });
  });

  it("refuse a zero check timeout, and a negative or overflowing duration anywhere", () => {
    const input = articleInput();
    input.services[0].check = { interval: "10s", timeout: "0s" };
    input.consul = { dns: { maxStale: "9999999999h", nodeTtl: "-1s" } };
    expect(problemsOf(input)).toEqual(
      expect.arrayContaining([
        "services[0].check.timeout: must be longer than 0s",
        expect.stringMatching(/^consul\.dns\.maxStale: must be a Go duration/),
        expect.stringMatching(/^consul\.dns\.nodeTtl: must be a Go duration/),
      ]),
    );
  });

  it("accept a fraction, as Go does", () => {
    const input = articleInput();
    input.services[0].check = { interval: "1.5s", timeout: "0.5s" };
    expect(problemsOf(input)).toEqual([]);
  });
});
