/**
 * The Docker CLI, asked for JSON (`--format '{{json .}}'`) rather than text. It honours DOCKER_HOST, contexts and TLS
 * settings exactly as the user's own `docker` commands do.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { AssetImageSpec, assetImageTag, BUILD_IMAGE_SCRIPT, buildImageEnvironment } from "../shared/asset-images";
import type { HostSpec, Lab } from "../topology";
import { type DockerEndpoint, parseDockerEndpoint } from "./docker-endpoint";
import { capture, CliError, CommandResult, passThrough, PROJECT_ROOT } from "./process";

/** The `docker` CLI with the lab's environment, asked for JSON where it can print it. */
export class DockerCli {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** A docker command to completion; `timeoutMs` stops one that could hang (a registry that does not answer). */
  run(args: readonly string[], timeoutMs?: number): CommandResult {
    const result = capture("docker", args, {
      env: this.env,
      ...(timeoutMs ? { timeout: timeoutMs, killSignal: "SIGTERM" } : {}),
    });
    if (timeoutMs && result.status !== 0 && !result.stderr && result.startError?.includes("ETIMEDOUT"))
      return { ...result, startError: `no answer within ${timeoutMs / 1000} s` };
    return result;
  }

  /**
   * As `run`, without blocking the event loop: for `verify`, which asks the lab while it watches the entry. A command
   * still running after `timeoutMs` is stopped and reported as such, so no Docker call can hang the caller.
   */
  runAsync(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return new Promise((resolve) =>
      execFile(
        "docker",
        [...args],
        { env: this.env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL" },
        (error, stdout, stderr) => {
          const timedOut = error !== null && (error as { killed?: boolean }).killed === true;
          resolve({
            status: error ? (typeof error.code === "number" ? error.code : 1) : 0,
            stdout,
            stderr,
            startError: timedOut
              ? `docker ${args[0]} gave no answer within ${timeoutMs / 1000} s`
              : error && typeof error.code === "string"
                ? error.message
                : undefined,
          });
        },
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
  endpoint(): DockerEndpoint {
    // Asked once per CLI: the doctor and the forwards ask it several times, and each answer costs a `docker` run.
    this.knownEndpoint ??= this.askEndpoint();
    return this.knownEndpoint;
  }

  private knownEndpoint?: DockerEndpoint;

  private askEndpoint(): DockerEndpoint {
    if (this.env.DOCKER_HOST) return parseDockerEndpoint(this.env.DOCKER_HOST);
    const current = this.json<string>(["context", "inspect", "--format", "{{json .Endpoints.docker.Host}}"]);
    if (current) return parseDockerEndpoint(current);
    // A context that does not exist is not the local socket: say which one was asked for.
    if (this.env.DOCKER_CONTEXT) return { kind: "missing-context", context: this.env.DOCKER_CONTEXT };
    return parseDockerEndpoint("unix:///var/run/docker.sock");
  }
}

/**
 * Builds every image the lab runs from assets/ that is not already local, with the script the cluster stack's build
 * steps run (scripts/deploy-time/build-image.mjs), showing the builder's progress; on `host` for a lab over several.
 */
export async function buildAssetImages(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  specs: readonly AssetImageSpec[],
  host?: HostSpec,
): Promise<void> {
  for (const spec of specs) {
    const tag = assetImageTag(lab, spec);
    const environment = buildImageEnvironment(tag, spec, (path) => join(PROJECT_ROOT, path), host);
    const status = await passThrough(process.execPath, [join(PROJECT_ROOT, BUILD_IMAGE_SCRIPT)], {
      env: { ...env, ...environment },
    });
    if (status !== 0) throw new CliError(`the build of ${tag} failed (exit ${status}); see above`);
  }
}
