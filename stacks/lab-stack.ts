import { Aspects, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { useLocalState } from "./state-backend";
import { OMIT_UNSET_ARGUMENTS, STOCK_SYNTHESIS_ENV } from "./synthesis-shortcuts";

export { STOCK_SYNTHESIS_ENV } from "./synthesis-shortcuts";

export interface LabStackOptions {
  /**
   * "lean" skips cdktf's preparing walk and leaves unset arguments out (see `LabStack`); "stock" synthesizes as cdktf
   * does.
   * @default "stock" when CONSUL_LAB_STOCK_SYNTHESIS=1, else "lean"
   */
  readonly synthesis?: "lean" | "stock";
}

/**
 * The base of this project's stacks: state in `state/<id>.tfstate`, and a leaner synthesis.
 *
 * cdktf walks every resource three times with its resolver, and in a large lab that is most of the synth. A lean
 * stack skips one walk and shortens the others; the output is the same bytes (lean-synthesis.test.ts compares both
 * ways on four labs):
 * - the preparing walk resolves everything once only to find references from one stack into another. These stacks
 *   never make one: the consul stack gets the published address as a literal, and deploy-contract.test.ts refuses
 *   any reference to the other stack's objects. It is skipped.
 * - a provider resource hands over every argument it knows, set or not (68 for a container), and each unset one
 *   costs two resolve calls before it is dropped. They are left out before the walks.
 * A `Lazy` value is produced once less than in stock synthesis; none here has a side effect that could tell.
 */
export abstract class LabStack extends TerraformStack {
  readonly synthesis: "lean" | "stock";

  constructor(scope: Construct, id: string, options: LabStackOptions = {}) {
    super(scope, id);
    useLocalState(this, id);
    this.synthesis = options.synthesis ?? (process.env[STOCK_SYNTHESIS_ENV] === "1" ? "stock" : "lean");
    if (this.synthesis === "lean") Aspects.of(this).add(OMIT_UNSET_ARGUMENTS);
  }

  override prepareStack(): void {
    if (this.synthesis === "stock") return super.prepareStack();
    this.ensureBackendExists();
  }
}
