/** `verify-report.html` (verify/report-html.ts), rendered by a real browser: headless Chromium via playwright-core. */
import { chromium, type Browser } from "playwright-core";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DrillTimeline } from "../verify/timed-step";
import type { EntryRequest } from "../verify/entry-watch";
import { type DrillReport, renderDrillReportHtml, timelineSummary } from "../verify/report-html";
import { judgedRequests } from "../verify/entry-watch";

jest.setTimeout(60_000);

const T0 = 1_790_000_000_000;
/** A step's timeline: `requests` answered as given, one every 100 ms from the action. */
function timeline(
  step: string,
  answers: ("dev1004" | "dev1005" | "sorry" | "failed")[],
  marks: DrillTimeline["marks"],
) {
  return {
    step,
    actionSentAt: T0 - 300,
    actionReturnedAt: T0,
    deadlineAt: T0 + 8000,
    requests: answers.map((answer, index): EntryRequest => ({
      sentAt: T0 + index * 100,
      answeredAt: T0 + index * 100 + 20,
      ...(answer === "sorry" || answer === "failed" ? { kind: answer } : { kind: "app", node: answer }),
    })),
    marks,
  };
}

const REPORT: DrillReport = {
  lab: "consul-lab",
  passed: false,
  timelines: [
    timeline(
      "stop the app servers",
      ["dev1004", "dev1005", "dev1004", "sorry", "sorry", "sorry", "sorry"],
      [
        { label: "sorry answers", seconds: 0.3 },
        { label: "flag on", seconds: 1.2 },
      ],
    ),
    timeline(
      "start the app servers",
      ["sorry", "failed", "dev1005", "dev1004"],
      [{ label: "app answers", seconds: 0.2 }],
    ),
  ],
  drill: [
    {
      step: "stop the app servers",
      expected: "the sorry page answers",
      seen: "sorry from dev1006",
      seconds: 0.3,
      ok: true,
    },
    { step: "stop the app servers", expected: "the flag is on", seen: "on", seconds: 1.2, ok: true },
    { step: "start the app servers", expected: "no request fails", seen: "1 failed", seconds: 0.1, ok: false },
  ],
};

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
});
afterAll(() => browser?.close());

describe("the drill's HTML report", () => {
  it("draws one mark per request, coloured by who answered, in Chromium from a file with nothing to fetch", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "consul-lab-report-")), "verify-report.html");
    writeFileSync(file, renderDrillReportHtml(REPORT));
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on("request", (request) => fetched.push(request.url()));
    await page.goto(`file://${file}`);
    const steps = page.locator("section.step");
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).locator("circle.request").count()).toBe(7);
    expect(await steps.nth(1).locator("circle.request").count()).toBe(4);
    expect(await page.locator('circle.request[data-kind="failed"]').count()).toBe(1);
    expect(await steps.nth(0).locator("line.mark").count()).toBe(2);
    // The first step ends well before its deadline: the deadline is named, not drawn far away.
    expect(await page.locator(".deadline").count()).toBe(2);
    // Every mark is drawn inside the picture.
    const xs = await page
      .locator("circle.request")
      .evaluateAll((circles) => circles.map((circle) => Number(circle.getAttribute("cx"))));
    expect(xs.filter((x) => !(x >= 0 && x <= 900))).toEqual([]);
    expect(fetched).toEqual([`file://${file}`]);
    await page.close();
  });

  it("counts from the action being sent: a slow action's answers lie after 0 s, and every label stays in the picture", async () => {
    // `docker stop` returned 1.5 s after it was sent; the sorry page came during it, and the last mark is at the
    // picture's right edge; the step and a lane have long names.
    const sent = T0;
    const slow: DrillTimeline = {
      step: "stop every app server (dev1004-with-a-rather-long-name, dev1005-with-a-rather-long-name, dev1007)",
      actionSentAt: sent,
      actionReturnedAt: sent + 1500,
      deadlineAt: sent + 1500 + 4000,
      requests: [-400, -200, 0, 200, 400, 600, 800, 1000, 1200, 1400, 3000, 5400].map((at, index) => ({
        sentAt: sent + at,
        answeredAt: sent + at + 20,
        ...(index < 3 ? { kind: "app" as const, node: "dev1004-with-a-rather-long-name" } : { kind: "sorry" as const }),
      })),
      marks: [
        { label: "the entry serves the sorry page", seconds: 0.3 },
        { label: "every load balancer's upstream lists only the sorry server", seconds: 5.4 },
      ],
    };
    expect(timelineSummary(slow)).toMatch(
      / at 0 s \(returned at 1\.5 s\), an app server until 0\.0 s, sorry from 0\.2 s, /,
    );
    const page = await browser.newPage();
    await page.setContent(renderDrillReportHtml({ ...REPORT, timelines: [slow], drill: [] }));
    const svg = page.locator("section.step svg");
    const width = Number(await svg.getAttribute("width"));
    const boxes = await svg.locator("text").evaluateAll((texts) =>
      texts.map((text) => {
        const box = (
          text as unknown as { getBBox(): { x: number; y: number; width: number; height: number } }
        ).getBBox();
        return {
          text: text.textContent,
          left: box.x,
          right: box.x + box.width,
          top: box.y,
          bottom: box.y + box.height,
        };
      }),
    );
    expect(boxes.length).toBeGreaterThanOrEqual(6);
    expect(boxes.filter((box) => box.left < 0 || box.right > width)).toEqual([]);
    const overlapping = boxes.flatMap((a, i) =>
      boxes
        .slice(i + 1)
        .filter((b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
        .map((b) => [a.text, b.text]),
    );
    expect(overlapping).toEqual([]);
    // The send is at 0 and the return is drawn: no answer lies left of the send but the ones sent before it.
    const x = async (selector: string) => Number(await svg.locator(selector).first().getAttribute("x1"));
    const sentX = await x("line.action");
    expect(await x("line.returned")).toBeGreaterThan(sentX);
    const sorryXs = await svg
      .locator('circle[data-kind="sorry"]')
      .evaluateAll((circles) => circles.map((circle) => Number(circle.getAttribute("cx"))));
    expect(sorryXs.filter((cx) => cx < sentX)).toEqual([]);
    await page.close();
  });

  it("lists each step's rows with PASS or FAIL, and the verdict", async () => {
    const page = await browser.newPage();
    await page.setContent(renderDrillReportHtml(REPORT));
    expect(await page.locator("h1").textContent()).toBe("consul-lab drill: consul-lab: FAIL");
    expect(await page.locator("section.step").nth(0).locator("tr.pass").count()).toBe(2);
    expect(await page.locator("section.step").nth(1).locator("tr.fail td").last().textContent()).toBe("FAIL");
    await page.close();
  });

  it("lists rows no timeline shows, the refusal and failing facts, escaped, instead of dropping them", async () => {
    const page = await browser.newPage();
    await page.setContent(
      renderDrillReportHtml({
        ...REPORT,
        drill: [
          ...REPORT.drill,
          { step: "stop the leader", expected: "the step runs", seen: "docker <b>died</b>", ok: false },
        ],
        facts: [{ fact: "a leader is elected", ok: false, seen: "no leader" }],
      }),
    );
    expect(await page.locator("section.other tr.fail td").first().textContent()).toBe("stop the leader");
    expect(await page.locator("section.other").textContent()).toContain("docker <b>died</b>");
    expect(await page.locator("section.other b").count()).toBe(0);
    expect(await page.locator("section.facts").textContent()).toContain("a leader is elected");
    await page.close();
  });

  it("says at a glance when the entry switched and whether a request failed", () => {
    expect(timelineSummary(REPORT.timelines[0])).toBe(
      "stop the app servers at 0 s (returned at 0.3 s), an app server from 0.3 s, sorry from 0.6 s, sorry answers at 0.3 s, flag on at 1.2 s, no failed request",
    );
    expect(timelineSummary(REPORT.timelines[1])).toMatch(/1 failed request\(s\)$/);
  });

  it("counts a failed request by when it was answered: one in flight at the action counts, one over before does not", () => {
    const action = 1_700_000_000_000;
    const request = (sentAt: number, answeredAt: number, kind: "app" | "sorry" | "failed") => ({
      sentAt: action + sentAt,
      answeredAt: action + answeredAt,
      kind,
    });
    const timeline = {
      step: "stop the app servers",
      actionSentAt: action,
      actionReturnedAt: action + 300,
      deadlineAt: action + 10_000,
      marks: [],
      requests: [
        request(-3000, -1000, "failed"), // failed before the action: not the step's
        request(-2000, -1900, "app"),
        request(-500, 1500, "failed"), // in flight when the action was sent, failed after it
        request(600, 700, "sorry"),
      ],
    };
    // The drill's row (describeFailures) and the summary count the same requests.
    expect(judgedRequests(timeline.requests, action).filter((r) => r.kind === "failed")).toHaveLength(1);
    expect(timelineSummary(timeline)).toMatch(/, 1 failed request\(s\)$/);
  });

  it("is the same bytes for the same report", () => {
    expect(renderDrillReportHtml(REPORT)).toBe(renderDrillReportHtml(structuredClone(REPORT)));
  });
});
