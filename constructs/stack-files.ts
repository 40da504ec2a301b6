import { ISynthesisSession, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { PROJECT_ROOT, PROJECT_ROOT_FROM_STACK } from "../shared/project-paths";
import { closeSync, mkdirSync, openSync, realpathSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * A file synth writes into a stack's directory beside cdk.tf.json: text; text in pieces made only while the file is
 * written, so a large file is never one string in memory; or the target of a relative link.
 */
export type StackFile =
  { readonly text: string } | { readonly pieces: () => Iterable<string> } | { readonly linkTo: string };

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

/**
 * Whether a stack's directory is where Terraform runs it for this checkout, `cdktf.out/stacks/<stack>`: a link holds a
 * path relative to there (into `.secrets/`), and anywhere else (a synth into /tmp) it would point where anyone could
 * plant a file. Elsewhere no link is written, and Terraform there finds no secrets at all.
 */
function isProjectStackDir(stackDir: string): boolean {
  try {
    return realpathSync(join(stackDir, PROJECT_ROOT_FROM_STACK)) === realpathSync(PROJECT_ROOT);
  } catch {
    return false;
  }
}

function writeStackFiles(stack: TerraformStack, session: ISynthesisSession, files: Map<string, StackFile>): void {
  const stackDir = dirname(join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath));
  mkdirSync(stackDir, { recursive: true });
  const linksHere = isProjectStackDir(stackDir);
  for (const [name, file] of files) {
    const path = join(stackDir, name);
    rmSync(path, { force: true });
    if ("text" in file) writeFileSync(path, file.text);
    else if ("pieces" in file) writePieces(path, file.pieces());
    else if (linksHere) symlinkSync(file.linkTo, path);
  }
}

function writePieces(path: string, pieces: Iterable<string>): void {
  const fd = openSync(path, "w");
  try {
    for (const piece of pieces) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}
