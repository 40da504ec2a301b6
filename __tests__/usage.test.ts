/** The command line's one table (cli/usage.ts): what --help prints and what is refused come from the same entries. */
import { COMMAND_NAMES, COMMAND_SPECS, type CommandSpec, parseCommandLine, usageOf, UsageError } from "../cli/usage";

describe("the commands' options table", () => {
  it.each(COMMAND_NAMES)("%s: its usage names its script, its summary and every option it takes", (name) => {
    const spec: CommandSpec = COMMAND_SPECS[name];
    const usage = usageOf(name);
    expect(usage.split("\n")[0]).toMatch(new RegExp(`^usage: npm run ${name}\\b`));
    expect(usage).toContain(spec.summary);
    if (spec.options !== "passed on")
      for (const option of spec.options) {
        expect(usage).toContain(option.says);
        expect(parseCommandLine(name, option.value ? [option.flag, "x"] : [option.flag])).toEqual(
          new Map([[option.flag, option.value ? "x" : true]]),
        );
      }
  });

  it.each(COMMAND_NAMES.filter((name) => COMMAND_SPECS[name].options !== "passed on"))(
    "%s: refuses an option it does not take, naming every one and what it takes",
    (name) => {
      expect(() => parseCommandLine(name, ["--nope", "extra"])).toThrow(
        new RegExp(`^${name} does not take "--nope", "extra"; it takes .*see --help\\)$`),
      );
      expect(parseCommandLine(name, ["--help"])).toBe("help");
      expect(parseCommandLine(name, ["-h"])).toBe("help");
    },
  );

  it("asks for an option's value when it is missing or empty, and takes the next argument as it", () => {
    for (const argv of [["--out"], ["--out", ""]])
      expect(() => parseCommandLine("diagram", argv)).toThrow(
        new UsageError("diagram: --out needs a FILE (see --help)"),
      );
    expect(parseCommandLine("diagram", ["--out", "-h"])).toEqual(new Map([["--out", "-h"]]));
  });

  it("answers help when asked, even beside an option the command does not take", () => {
    expect(parseCommandLine("synth", ["--bogus", "--help"])).toBe("help");
  });

  it("hands every argument of the cdktf pass-through on unread, --help too", () => {
    expect(parseCommandLine("cdktf", ["--help", "diff"])).toEqual(new Map());
    expect(usageOf("cdktf")).toContain("every argument goes to the cdktf CLI unread");
  });
});
