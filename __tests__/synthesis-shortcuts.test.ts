/** The one cdktf internal the app imports by path (stacks/synthesis-shortcuts.ts), asked to do its job. */
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Testing, TerraformStack } from "cdktf";
import { ClusterStack, missingProviders } from "../stacks";
import { labOf } from "./tools/helpers";

describe("cdktf's provider-presence validation, run by hand", () => {
  it("names a resource whose provider its stack does not declare", () => {
    const stack = new TerraformStack(Testing.app(), "bare");
    new Volume(stack, "data", { name: "x" });
    expect(missingProviders([stack])).toEqual([expect.stringMatching(/docker/i)]);
  });

  it("finds nothing to say of the lab's stacks", () => {
    expect(missingProviders([new ClusterStack(Testing.app(), "cluster", { lab: labOf() })])).toEqual([]);
  });
});
