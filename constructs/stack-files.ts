import { ISynthesisSession, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A file synth writes into a stack's directory beside cdk.tf.json: text, or the target of a relative link. */
export type StackFile = { readonly text: string } | { readonly linkTo: string };

const filesOfStack = new WeakMap<TerraformStack, Map<string, StackFile>>();

/**
 * A file Terraform reads from a stack's working directory, written there at synth beside cdk.tf.json: what must not
 * be in the configuration itself (the ACL plan, too large for a provisioner's environment; the link to the stack's
 * secret variables). Same input, same bytes. Works through the stack's public synthesizer, on any stack.
 */
export function addStackFile(scope: IConstruct, name: string, file: StackFile): void {
  if (!/^[\w.-]+$/.test(name) || name === "cdk.tf.json") throw new Error(`not a stack file name: ${name}`);
  const stack = TerraformStack.of(scope);
  let files = filesOfStack.get(stack);
  if (!files) {
    files = new Map();
    filesOfStack.set(stack, files);
    const synthesizer = stack.synthesizer;
    stack.synthesizer = {
      synthesize: (session: ISynthesisSession) => {
        synthesizer.synthesize(session);
        writeStackFiles(stack, session, files!);
      },
    };
  }
  if (files.has(name)) throw new Error(`stack ${stack.node.id} already has a file ${name}`);
  files.set(name, file);
}

function writeStackFiles(stack: TerraformStack, session: ISynthesisSession, files: Map<string, StackFile>): void {
  const stackJson = join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath);
  for (const [name, file] of files) {
    const path = join(dirname(stackJson), name);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    if ("linkTo" in file) symlinkSync(file.linkTo, path);
    else writeFileSync(path, file.text);
  }
}
