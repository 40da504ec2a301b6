import { LocalBackend, TerraformStack } from "cdktf";
import { fromStackDir, STATE_DIR } from "../shared/project-paths";

/**
 * Keeps a stack's state in `state/<stack>.tfstate`. The path is relative to the directory Terraform runs in
 * (`cdktf.out/stacks/<stack>`), so the synthesized JSON holds no absolute path of this checkout.
 */
export function useLocalState(stack: TerraformStack, stackName: string): LocalBackend {
  return new LocalBackend(stack, { path: fromStackDir(`${STATE_DIR}/${stackName}.tfstate`) });
}
