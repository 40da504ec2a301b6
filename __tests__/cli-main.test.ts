/**
 * The dispatcher in-process (cli/main.ts): importing it runs nothing, and `main(argv, env)` resolves to the exit
 * status of what the command line asks, printing what the program would.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli/main";
import { usageOf } from "../cli/usage";

/** Runs `main` with standard output and error captured. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const log = jest.spyOn(console, "log").mockImplementation((...parts) => void out.push(`${parts.join(" ")}\n`));
  const error = jest.spyOn(console, "error").mockImplementation((...parts) => void err.push(`${parts.join(" ")}\n`));
  try {
    const status = await main(argv, { PATH: process.env.PATH, ...env });
    return { status, stdout: out.join(""), stderr: err.join("") };
  } finally {
    write.mockRestore();
    log.mockRestore();
    error.mockRestore();
  }
}

describe("main(argv, env), in-process", () => {
  it("answers --help with the command's usage, and touches nothing", async () => {
    expect(await run(["deploy", "--help"])).toEqual({ status: 0, stdout: usageOf("deploy"), stderr: "" });
  });

  it("refuses an unknown command and an unknown option with exit 2", async () => {
    const unknown = await run(["deplyo"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /^usage: npm run synth\|doctor\|diff\|deploy\|destroy\|repair\|cdktf\|topology\|secrets\|diagram/,
    );
    const option = await run(["synth", "--topology", "x"]);
    expect(option).toMatchObject({ status: 2, stdout: "" });
    expect(option.stderr).toContain('consul-lab: synth does not take "--topology", "x"; it takes no options');
  });

  it("prints the topology of the file CONSUL_LAB_TOPOLOGY names, and refuses an invalid one with exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "consul-lab-main-"));
    const printed = await run(["topology"]);
    expect(printed.status).toBe(0);
    expect(JSON.parse(printed.stdout).nodes.map((node: { name: string }) => node.name)).toContain("dev1006");
    writeFileSync(join(dir, "lab.json"), JSON.stringify({ name: "lab", nodes: [] }));
    const refused = await run(["topology"], { CONSUL_LAB_TOPOLOGY: join(dir, "lab.json") });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`${join(dir, "lab.json")} is not a valid topology`);
  });

  it("lets a quick command end on a signal as any program does: it traps none", async () => {
    const on = jest.spyOn(process, "on");
    try {
      await run(["topology", "--api"]);
      expect(on.mock.calls.map(([event]) => event)).not.toContain("SIGINT");
    } finally {
      on.mockRestore();
    }
  });

  it("traps signals while a command with steps runs, and leaves no listener behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "consul-lab-main-"));
    writeFileSync(join(dir, "lab.json"), "{}");
    const on = jest.spyOn(process, "on");
    const before = process.listenerCount("SIGINT");
    try {
      // The doctor stops at the topology, after the run has begun catching signals.
      expect((await run(["doctor"], { CONSUL_LAB_TOPOLOGY: join(dir, "lab.json") })).status).toBe(1);
      expect(on.mock.calls.map(([event]) => event)).toEqual(expect.arrayContaining(["SIGINT", "SIGTERM", "SIGHUP"]));
    } finally {
      on.mockRestore();
    }
    expect(process.listenerCount("SIGINT")).toBe(before);
  });
});
