/** What `npm run verify` leaves behind: `verify-report.json` in the project root, and the drill's table. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonFileText } from "../shared/generated-file";
import { PROJECT_ROOT } from "../shared/process";
import type { DrillRow } from "./drill";

export const REPORT_FILE = "verify-report.json";

/** The drill's rows as a table, each column as wide as its widest cell (at most 60). */
export function table(rows: DrillRow[]): string {
  const header = ["step", "expected", "seen", "seconds", "result"];
  const cells = rows.map((row) => [
    row.step,
    row.expected,
    row.seen,
    row.seconds?.toFixed(1) ?? "-",
    row.ok ? "PASS" : "FAIL",
  ]);
  const widths = header.map((title, column) =>
    Math.min(60, Math.max(title.length, ...cells.map((cell) => cell[column].length))),
  );
  const format = (cell: string[]) =>
    cell
      .map((text, column) => text.padEnd(widths[column]))
      .join("  ")
      .trimEnd();
  return [format(header), format(widths.map((width) => "-".repeat(width))), ...cells.map(format)].join("\n");
}

/** Replaces the report whole. */
export function writeReport(report: object): void {
  writeFileSync(join(PROJECT_ROOT, REPORT_FILE), jsonFileText(report));
}
