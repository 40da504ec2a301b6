/**
 * What `npm run verify` leaves behind: `verify-report.json` in the project root, the drill's table, and after a drill
 * `verify-report.html`.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonFileText } from "../shared/generated-file";
import { PROJECT_ROOT } from "../shared/process";
import type { DrillRow } from "./drill";
import { type DrillReport, renderDrillReportHtml } from "./report-html";

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
    Math.min(
      60,
      cells.reduce((widest, cell) => Math.max(widest, cell[column].length), title.length),
    ),
  );
  const format = (cell: string[]) =>
    cell
      .map((text, column) => text.padEnd(widths[column]))
      .join("  ")
      .trimEnd();
  return [format(header), format(widths.map((width) => "-".repeat(width))), ...cells.map(format)].join("\n");
}

/** The drill's timelines as a page (report-html.ts), written beside the JSON report after a drill. */
export const HTML_REPORT_FILE = "verify-report.html";

/** Replaces the report whole; after a drill, its page too, and otherwise removes an old page. */
export function writeReport(report: {
  readonly drill?: unknown;
  readonly timelines?: unknown;
  readonly [field: string]: unknown;
}): void {
  writeFileSync(join(PROJECT_ROOT, REPORT_FILE), jsonFileText(report));
  const page = join(PROJECT_ROOT, HTML_REPORT_FILE);
  if (Array.isArray(report.drill) && Array.isArray(report.timelines))
    writeFileSync(page, renderDrillReportHtml(report as unknown as DrillReport));
  else rmSync(page, { force: true });
}
