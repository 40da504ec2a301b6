// A picture of the drill's HTML report, for docs/verify.md: `node scripts/dev/report-screenshot.mjs REPORT.html OUT.png`,
// the first step's timeline rendered by headless Chromium (Debian's `chromium`, through playwright-core). The page's
// picture comes from the stand-in lab's drill: `CONSUL_LAB_KEEP_STAND_IN_REPORT=/tmp/report.html npx jest
// __tests__/verify-drill.test.ts -t "times the switch"` keeps that run's page.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [page, out] = process.argv.slice(2);
if (!page || !out) {
  console.error("usage: node scripts/dev/report-screenshot.mjs REPORT.html OUT.png");
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const tab = await browser.newPage({ viewport: { width: 980, height: 800 } });
  await tab.goto(pathToFileURL(page).href);
  await tab.locator("section.step").first().screenshot({ path: out });
  console.log(`report-screenshot: wrote ${out}`);
} finally {
  await browser.close();
}
