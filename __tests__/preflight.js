// Every program the tests run generated files through, checked once before any test starts (global-setup.js), so
// a machine without one gets a single list of what to install instead of scattered failures or a hung helper.
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");

const PROGRAMS = [
  {
    command: "bash",
    why: "runs the fake docker and terraform (bash 4.1 or later, for read -N)",
    debian: "preinstalled",
    macos: "brew install bash",
    works: () =>
      spawnSync("bash", ["-c", "((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 1)))"])
        .status === 0,
  },
  {
    command: "terraform",
    why: "evaluates uploaded files (terraform console)",
    debian: "see https://developer.hashicorp.com/terraform/install",
    macos: "brew install hashicorp/tap/terraform",
  },
  {
    command: "nginx",
    why: "checks every nginx config (nginx -t) and serves test traffic",
    debian: "apt-get install nginx",
    macos: "brew install nginx",
  },
  {
    command: "dnsmasq",
    why: "checks the forwarder config and answers DNS tests",
    debian: "apt-get install dnsmasq-base",
    macos: "brew install dnsmasq",
  },
  {
    command: "shellcheck",
    why: "lints every shell script",
    debian: "apt-get install shellcheck",
    macos: "brew install shellcheck",
  },
  {
    command: "jq",
    why: "the maintenance handler parses health with it",
    debian: "apt-get install jq",
    macos: "brew install jq",
  },
  {
    command: "curl",
    why: "the maintenance handler and ops scripts call Consul with it",
    debian: "apt-get install curl",
    macos: "preinstalled",
  },
  {
    command: "go",
    why: "runs templates through Go's text/template",
    debian: "apt-get install golang-go",
    macos: "brew install go",
  },
  {
    command: "dig",
    why: "queries the DNS forwarding tests",
    debian: "apt-get install bind9-dnsutils",
    macos: "preinstalled",
  },
  {
    command: "openssl",
    why: "makes and verifies the lab's TLS certificates",
    debian: "apt-get install openssl",
    macos: "preinstalled",
  },
  {
    command: "xmllint",
    why: "parses the topology diagram's SVG",
    debian: "apt-get install libxml2-utils",
    macos: "preinstalled",
  },
  {
    command: "chromium",
    why: "renders the drill's HTML report (driven by playwright-core)",
    debian: "apt-get install chromium",
    macos: "brew install --cask chromium",
  },
];

function found(command) {
  if (["/usr/sbin", "/usr/local/sbin", "/sbin"].some((dir) => existsSync(`${dir}/${command}`))) return true;
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

/** Throws one error listing every missing program, with how to install it. */
module.exports = function preflight() {
  const missing = PROGRAMS.filter((program) => !found(program.command) || (program.works && !program.works()));
  if (missing.length === 0) return;
  const lines = missing.map(
    (program) =>
      `  ${program.command}: ${program.why}\n    Debian/Ubuntu: ${program.debian}\n    macOS: ${program.macos}`,
  );
  throw new Error(
    `npm test needs ${missing.length} program(s) that are not installed (.ci/run installs them on Debian):\n${lines.join("\n")}`,
  );
};
