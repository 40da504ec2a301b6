/** The drill's table in the terminal: every column aligned, whatever a cell holds. */
import { table } from "../verify/report";

describe("the drill's table", () => {
  it("wraps a cell longer than its column onto the row's next lines, keeping every column aligned", () => {
    const long =
      "not so: every load balancer's upstream lists the app servers (seen: 10.0.1.6 | 10.0.1.4 10.0.1.5 10.0.1.6)";
    const text = table([
      {
        step: "stop every app server",
        expected: "the entry serves the sorry page",
        seen: "after 0.1 s",
        seconds: 0.1,
        ok: true,
      },
      { step: "operator sets on", expected: "the lab is where this step starts", seen: long, ok: false },
    ]);
    const lines = text.split("\n");
    const header = lines[0];
    const resultColumn = header.indexOf("result");
    // Every PASS and FAIL sits in the result column, and no line is wider than the columns allow.
    for (const line of lines.filter((candidate) => /\b(PASS|FAIL)$/.test(candidate)))
      expect(line.indexOf(line.endsWith("PASS") ? "PASS" : "FAIL")).toBe(resultColumn);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(header.length + 4);
    // Nothing of the long cell is lost.
    expect(lines.join(" ").replace(/\s+/g, " ")).toContain(long.replace(/\s+/g, " ").slice(0, 40));
    expect(lines.length).toBeGreaterThan(4);
  });
});
