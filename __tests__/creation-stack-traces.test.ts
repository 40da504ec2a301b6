import { STACK_TRACES_ENV, withoutCreationStackTraces } from "../stacks";

describe("withoutCreationStackTraces", () => {
  it("leaves errors their name and message, without frames, while the work runs", () => {
    const inside = withoutCreationStackTraces(() => new TypeError("bad topology").stack, {});
    expect(inside).toBe("TypeError: bad topology");
  });

  it("restores full stack traces afterwards, even when the work throws", () => {
    expect(() =>
      withoutCreationStackTraces(() => {
        throw new Error("synth failed");
      }, {}),
    ).toThrow("synth failed");
    expect(new Error("later").stack).toMatch(/^Error: later\n\s+at /);
  });

  it("captures no stack into an object while the work runs, as cdktf asks for every token", () => {
    const inside = withoutCreationStackTraces(() => {
      const target = { stack: "" };
      Error.captureStackTrace(target);
      return target.stack;
    }, {});
    expect(inside).toBe("");
    const after = { stack: "" };
    Error.captureStackTrace(after);
    expect(after.stack).toMatch(/\n\s+at /);
  });

  it(`keeps full traces when ${STACK_TRACES_ENV}=1`, () => {
    const inside = withoutCreationStackTraces(() => new Error("debugging").stack, { [STACK_TRACES_ENV]: "1" });
    expect(inside).toMatch(/^Error: debugging\n\s+at /);
  });
});
