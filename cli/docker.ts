/**
 * The Docker CLI, asked for JSON (`--format '{{json .}}'`) rather than text. It honours DOCKER_HOST, contexts and TLS
 * settings exactly as the user's own `docker` commands do, and `docker build` uses BuildKit with any image store.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { AssetImageSpec, assetImageTag } from "../constructs/asset-images";
import type { Lab } from "../topology";
import { capture, CliError, CommandResult, passThrough, PROJECT_ROOT } from "./process";

/** The `docker` CLI with the lab's environment, asked for JSON where it can print it. */
export class DockerCli {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  run(args: readonly string[]): CommandResult {
    return capture("docker", args, { env: this.env });
  }

  /** As `run`, without blocking the event loop: for `verify`, which asks the lab while it watches the entry. */
  runAsync(args: readonly string[]): Promise<CommandResult> {
    return new Promise((resolve) =>
      execFile(
        "docker",
        [...args],
        { env: this.env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({
            status: error ? (typeof error.code === "number" ? error.code : 1) : 0,
            stdout,
            stderr,
            startError: error && typeof error.code === "string" ? error.message : undefined,
          }),
      ),
    );
  }

  /** One JSON document from a command, or undefined when the command failed. */
  json<T>(args: readonly string[]): T | undefined {
    const result = this.run(args);
    if (result.status !== 0 || result.startError) return undefined;
    return JSON.parse(result.stdout) as T;
  }

  hasImage(reference: string): boolean {
    return this.run(["image", "inspect", "--format", "{{.Id}}", reference]).status === 0;
  }

  /**
   * Where this CLI's requests go: DOCKER_HOST, or the current context's endpoint. The deploy passes it to Terraform
   * as DOCKER_HOST, since the Docker provider reads DOCKER_HOST but not the CLI's current context.
   */
  endpoint(): string {
    if (this.env.DOCKER_HOST) return this.env.DOCKER_HOST;
    return (
      this.json<string>(["context", "inspect", "--format", "{{json .Endpoints.docker.Host}}"]) ||
      "unix:///var/run/docker.sock"
    );
  }

  /**
   * Builds an image from assets/ with the user's own builder, showing its progress. With buildx, `--load` puts the
   * result in the engine's image store even when the current builder is a container.
   */
  async build(tag: string, spec: AssetImageSpec): Promise<void> {
    const buildx = this.run(["buildx", "version"]).status === 0;
    const args = [...(buildx ? ["buildx", "build", "--load"] : ["build"]), "--tag", tag];
    for (const [name, value] of Object.entries(spec.buildArgs)) args.push("--build-arg", `${name}=${value}`);
    args.push(join(PROJECT_ROOT, "assets", spec.assetDir));
    const status = await passThrough("docker", args, { env: this.env });
    if (status !== 0) throw new CliError(`docker build of ${tag} failed (exit ${status}); see above`);
    if (!this.hasImage(tag)) throw new CliError(`docker build of ${tag} finished, but the engine has no image ${tag}`);
  }
}

/**
 * Builds every image the lab runs from assets/ that is not already local. Its tag is a digest of its inputs, so a tag
 * that exists is the image these inputs make.
 */
export async function buildAssetImages(
  lab: Lab,
  docker: DockerCli,
  specs: readonly AssetImageSpec[],
  say: (line: string) => void,
): Promise<void> {
  for (const spec of specs) {
    const tag = assetImageTag(lab, spec);
    if (docker.hasImage(tag)) {
      say(`image ${tag}: present`);
      continue;
    }
    say(`image ${tag}: building from assets/${spec.assetDir}`);
    await docker.build(tag, spec);
  }
}
