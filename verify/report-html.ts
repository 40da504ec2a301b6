/**
 * The drill as a picture: `verify-report.html`, one file that works offline, beside verify-report.json. Each step is a
 * timeline: every request made at the entry, placed by when it was sent and coloured by who answered (an app server,
 * the sorry server, or nobody), the moments each expected state first held, and the deadline; then the step's rows
 * with their PASS or FAIL. The timeline is drawn as inline SVG by this file (a few dozen lines, no chart library to
 * inline), the same report giving the same bytes.
 */
import type { DrillRow, DrillTimeline } from "./timed-step";
import type { Fact } from "./facts";
import { judgedRequests } from "./entry-watch";

/** What the HTML report is drawn from: the JSON report's drill part. */
export interface DrillReport {
  readonly lab: string;
  readonly passed: boolean;
  readonly drill: readonly DrillRow[];
  readonly timelines: readonly DrillTimeline[];
  /** Why the drill did not run, when it did not. */
  readonly drillRefused?: string;
  readonly facts?: readonly Fact[];
  readonly factsAfterDrill?: readonly Fact[];
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const WIDTH = 900;
const LANE = 18;
const LEFT = 120;
const COLORS = { sorry: "#e8890c", failed: "#d62728" } as const;
const APP_COLORS = ["#2ca02c", "#1f77b4", "#17becf", "#9467bd", "#8c564b", "#7f7f7f"];

/** Who answered a request, as the lane it is drawn in. */
const laneOf = (request: DrillTimeline["requests"][number]) =>
  request.kind === "app" ? `app ${request.node ?? "?"}` : request.kind;

/** Seconds to one decimal, never "-0.0". */
const seconds = (value: number) => (Math.abs(value) < 0.05 ? "0.0" : value.toFixed(1));

/** The one line a person reads first: when the entry first answered each way, and how many requests failed. */
export function timelineSummary(timeline: DrillTimeline): string {
  const since = (at: number) => (at - timeline.actionSentAt) / 1000;
  const spans = new Map<string, { first: number; last: number }>();
  for (const request of timeline.requests) {
    const lane = request.kind === "app" ? "an app server" : request.kind === "sorry" ? "sorry" : undefined;
    if (!lane) continue;
    const at = since(request.sentAt);
    const span = spans.get(lane);
    spans.set(lane, span ? { first: span.first, last: at } : { first: at, last: at });
  }
  const failed = judgedRequests(timeline.requests, timeline.actionSentAt).filter(
    (request) => request.kind === "failed",
  ).length;
  const returned = since(timeline.actionReturnedAt);
  return [
    `${timeline.step} at 0 s${returned >= 0.05 ? ` (returned at ${seconds(returned)} s)` : ""}`,
    // A lane the entry answered with before the action is "until" its last request; a new one "from" its first.
    ...[...spans].map(([lane, span]) =>
      span.first < 0 ? `${lane} until ${seconds(span.last)} s` : `${lane} from ${seconds(span.first)} s`,
    ),
    ...timeline.marks.map((mark) => `${mark.label} at ${mark.seconds.toFixed(1)} s`),
    failed === 0 ? "no failed request" : `${failed} failed request(s)`,
  ].join(", ");
}

/** A generous width for 11 px sans-serif text, so a label placed by it stays inside the picture. */
const textWidth = (text: string) => text.length * 7;

/**
 * A label beside the line at `x`: after it, or ending at it when it would run off the right edge, or from the left
 * edge when neither fits.
 */
function labelBeside(x: number, y: number, text: string, attributes: string): string {
  const width = textWidth(text);
  const [at, anchor] =
    x + 3 + width <= WIDTH - 2 ? [x + 3, "start"] : x - 3 - width >= 2 ? [x - 3, "end"] : [2, "start"];
  return `<text ${attributes} x="${at.toFixed(1)}" y="${y}" text-anchor="${anchor}">${escape(text)}</text>`;
}

/** A lane's name, cut to the room left of the lanes (the whole name in its tooltip). */
function laneLabel(lane: string, y: number): string {
  const room = Math.floor((LEFT - 12) / 7);
  const shown = lane.length <= room ? lane : `${lane.slice(0, room - 1)}…`;
  return `<text class="lane" x="${LEFT - 8}" y="${y}" text-anchor="end"><title>${escape(lane)}</title>${escape(shown)}</text>`;
}

function timelineSvg(timeline: DrillTimeline): string {
  // Seconds from the action being sent: what happened while it ran lies after 0, up to its return.
  const since = (at: number) => (at - timeline.actionSentAt) / 1000;
  const deadline = since(timeline.deadlineAt);
  const returned = since(timeline.actionReturnedAt);
  const sentAt = timeline.requests.map((request) => since(request.sentAt));
  const start = sentAt.reduce((earliest, at) => Math.min(earliest, at), 0);
  // As far as something happened, with room: a step that ends early is not squeezed against a distant deadline.
  const last = [...sentAt, returned, ...timeline.marks.map((mark) => mark.seconds)].reduce(
    (latest, at) => Math.max(latest, at),
    1,
  );
  const lastRequest = sentAt.reduce((latest, at) => Math.max(latest, at), 0);
  const end = Math.max(lastRequest * 1.02, Math.min(deadline, last * 1.15));
  const x = (seconds: number) => LEFT + ((seconds - start) / (end - start)) * (WIDTH - LEFT - 20);
  const lanes = [...new Set(timeline.requests.map(laneOf))].sort((a, b) =>
    a === b ? 0 : a.startsWith("app") !== b.startsWith("app") ? (a.startsWith("app") ? -1 : 1) : a < b ? -1 : 1,
  );
  const lanesBottom = 30 + Math.max(lanes.length, 1) * LANE;
  const deadlineShown = deadline <= end;
  // Under the lanes, one row per label: the action's return (when it took a while), each mark, the deadline.
  const rows: { x: number; text: string; kind: string; stroke: string; dash: string }[] = [
    ...(returned >= 0.05
      ? [
          {
            x: x(returned),
            text: `action returned: ${returned.toFixed(1)} s`,
            kind: "returned",
            stroke: "#000000",
            dash: "1,2",
          },
        ]
      : []),
    ...timeline.marks.map((mark) => ({
      x: x(mark.seconds),
      text: `${mark.label}: ${mark.seconds.toFixed(1)} s`,
      kind: "mark",
      stroke: "#555555",
      dash: "4,3",
    })),
    deadlineShown
      ? {
          x: x(deadline),
          text: `deadline: ${deadline.toFixed(0)} s`,
          kind: "deadline",
          stroke: COLORS.failed,
          dash: "",
        }
      : {
          x: WIDTH - 20,
          text: `deadline at ${deadline.toFixed(0)} s, beyond →`,
          kind: "deadline",
          stroke: "",
          dash: "",
        },
  ];
  const rowY = (index: number) => lanesBottom + 14 * (index + 1);
  const height = rowY(rows.length) + 8;
  const colorOf = (lane: string) =>
    lane === "sorry"
      ? COLORS.sorry
      : lane === "failed"
        ? COLORS.failed
        : APP_COLORS[lanes.filter((name) => name.startsWith("app")).indexOf(lane) % APP_COLORS.length];
  const y = (lane: string) => 30 + lanes.indexOf(lane) * LANE + LANE / 2;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    ...lanes.map(
      (lane) =>
        laneLabel(lane, y(lane) + 4) +
        `<line x1="${LEFT}" x2="${WIDTH - 20}" y1="${y(lane)}" y2="${y(lane)}" stroke="#eeeeee"/>`,
    ),
    ...timeline.requests.map(
      (request) =>
        `<circle class="request" data-kind="${request.kind}" cx="${x(since(request.sentAt)).toFixed(1)}" cy="${y(laneOf(request))}" r="3" fill="${colorOf(laneOf(request))}"><title>${escape(laneOf(request))} at ${since(request.sentAt).toFixed(2)} s</title></circle>`,
    ),
    `<line class="action" x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="20" y2="${lanesBottom}" stroke="#000000"/>`,
    labelBeside(x(0), 15, `0 s: ${timeline.step}`, 'class="action"'),
    ...rows.map(
      (row, index) =>
        (row.stroke
          ? `<line class="${row.kind}" x1="${row.x.toFixed(1)}" x2="${row.x.toFixed(1)}" y1="20" y2="${rowY(index)}" stroke="${row.stroke}"${row.dash ? ` stroke-dasharray="${row.dash}"` : ""}/>`
          : "") +
        labelBeside(
          row.x,
          rowY(index),
          row.text,
          `class="${row.kind}"${row.kind === "deadline" ? ` fill="${COLORS.failed}"` : ""}`,
        ),
    ),
    "</svg>",
  ];
  return parts.join("\n");
}

/** A table of rows, each with its PASS or FAIL. */
function rowsTable(rows: readonly DrillRow[], withStep: boolean): string {
  return [
    `<table><tr>${withStep ? "<th>step</th>" : ""}<th>expected</th><th>seen</th><th>seconds</th><th>result</th></tr>`,
    ...rows.map(
      (row) =>
        `<tr class="${row.ok ? "pass" : "fail"}">${withStep ? `<td>${escape(row.step)}</td>` : ""}<td>${escape(row.expected)}</td><td>${escape(row.seen)}</td><td>${row.seconds?.toFixed(1) ?? "-"}</td><td>${row.ok ? "PASS" : "FAIL"}</td></tr>`,
    ),
    "</table>",
  ].join("\n");
}

/** The whole HTML file: the verdict, then each step's timeline and rows, then what no timeline shows. */
export function renderDrillReportHtml(report: DrillReport): string {
  const drawn = new Set(report.timelines.map((timeline) => timeline.step));
  // Rows of steps without a timeline (a step that could not start, a refusal to act): listed, never dropped.
  const otherRows = report.drill.filter((row) => !drawn.has(row.step));
  const failedFacts = [...(report.facts ?? []), ...(report.factsAfterDrill ?? [])].filter((fact) => !fact.ok);
  const sections = report.timelines.map((timeline) => {
    const rows = report.drill.filter((row) => row.step === timeline.step);
    return [
      `<section class="step">`,
      `<h2>${escape(timeline.step)}</h2>`,
      `<p class="summary">${escape(timelineSummary(timeline))}</p>`,
      timelineSvg(timeline),
      rowsTable(rows, false),
      "</section>",
    ].join("\n");
  });
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>consul-lab drill: ${escape(report.lab)}</title>`,
    "<style>",
    "body { font-family: sans-serif; margin: 2em; color: #222222; }",
    "table { border-collapse: collapse; margin: 0.5em 0 2em; } td, th { padding: 2px 8px; text-align: left; }",
    "tr.pass td:last-child { color: #2ca02c; font-weight: bold; } tr.fail td:last-child { color: #d62728; font-weight: bold; }",
    "svg text { font-size: 11px; } .summary { font-weight: bold; }",
    "</style></head><body>",
    `<h1>consul-lab drill: ${escape(report.lab)}: ${report.passed ? "PASS" : "FAIL"}</h1>`,
    `<p>Each dot is one request to the entry, placed by when it was sent (seconds from the step's action being sent, the solid black line; the dotted one is when the action returned) and coloured by who answered; dashed lines mark when each expected state first held; the red line is the deadline (or, when the step ended well before it, a note of where it is).</p>`,
    ...(report.drillRefused ? [`<p class="refused">The drill did not run: ${escape(report.drillRefused)}</p>`] : []),
    ...sections,
    ...(otherRows.length > 0
      ? [`<section class="other"><h2>Steps without a timeline</h2>`, rowsTable(otherRows, true), "</section>"]
      : []),
    ...(failedFacts.length > 0
      ? [
          `<section class="facts"><h2>Facts that failed</h2><table><tr><th>fact</th><th>seen</th></tr>`,
          ...failedFacts.map(
            (fact) => `<tr class="fail"><td>${escape(fact.fact)}</td><td>${escape(fact.seen)}</td></tr>`,
          ),
          "</table></section>",
        ]
      : []),
    "</body></html>",
    "",
  ].join("\n");
}
