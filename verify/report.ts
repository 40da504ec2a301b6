/**
 * What `npm run verify` leaves behind: `verify-report.json` in the project root, the drill's table, and after a drill
 * `verify-report.html`.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonFileText } from "../shared/generated-file";
import { PROJECT_ROOT } from "../runtime/process";
import type { DrillRow } from "./timed-step";
import { type DrillReport, renderDrillReportHtml } from "./report-html";

export const REPORT_FILE = "verify-report.json";

/**
 * The drill's rows as a table, each column as wide as its widest cell (at most 60); a longer cell wraps onto the
 * row's next lines, at spaces where it can, so every column stays aligned.
 */
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
  const format = (cell: string[]) => {
    const wrapped = cell.map((text, column) => wrap(text, widths[column]));
    const height = wrapped.reduce((tallest, lines) => Math.max(tallest, lines.length), 1);
    const lines: string[] = [];
    for (let line = 0; line < height; line++)
      lines.push(
        wrapped
          .map((cellLines, column) => (cellLines[line] ?? "").padEnd(widths[column]))
          .join("  ")
          .trimEnd(),
      );
    return lines.join("\n");
  };
  return [format(header), format(widths.map((width) => "-".repeat(width))), ...cells.map(format)].join("\n");
}

/** A cell's text in lines of at most `width`, broken at the last space before the width where there is one. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(" ", width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, "");
  }
  lines.push(rest);
  return lines;
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
