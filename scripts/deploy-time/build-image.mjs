// Builds one of the lab's images from assets/ with the user's own Docker builder, unless the engine already has its
// tag (a digest of the build's inputs, so a tag that exists is the image these inputs make). The cluster stack runs
// it before Terraform needs the image (a terraform_data local-exec), so `npx cdktf deploy` builds what it deploys;
// `npm run deploy` runs it first as well, showing the builder's progress.
//
// Environment:
//   CONSUL_LAB_IMAGE_TAG         the image's tag, `<lab>-<name>:<digest of its inputs>`
//   CONSUL_LAB_IMAGE_CONTEXT     the build context, a directory under assets/ holding a Dockerfile
//   CONSUL_LAB_IMAGE_BUILD_ARGS  the build args as a JSON object of strings
//   CONSUL_LAB_IMAGE_DOCKER_VARIABLES  optional, on a lab over several hosts: the Docker variables of the host to build
//                                on, as a JSON object (a string sets a variable, null clears it)
// Otherwise the `docker` CLI honours DOCKER_HOST and the current context, as the user's own commands do.
// @ts-check
import { spawnSync } from "node:child_process";
import process from "node:process";

/** @returns {never} */
function fail(message) {
  console.error(`build-image: ${message}`);
  process.exit(1);
}

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

const tag = required("CONSUL_LAB_IMAGE_TAG");
const context = required("CONSUL_LAB_IMAGE_CONTEXT");
let buildArgs;
try {
  buildArgs = JSON.parse(required("CONSUL_LAB_IMAGE_BUILD_ARGS"));
} catch (error) {
  fail(`CONSUL_LAB_IMAGE_BUILD_ARGS is not valid JSON: ${error.message}`);
}

/** @type {NodeJS.ProcessEnv} */
const dockerEnv = { ...process.env };
if (process.env.CONSUL_LAB_IMAGE_DOCKER_VARIABLES) {
  let variables;
  try {
    variables = JSON.parse(process.env.CONSUL_LAB_IMAGE_DOCKER_VARIABLES);
  } catch (error) {
    fail(`CONSUL_LAB_IMAGE_DOCKER_VARIABLES is not valid JSON: ${error.message}`);
  }
  for (const [name, value] of Object.entries(variables)) {
    if (value === null) delete dockerEnv[name];
    else dockerEnv[name] = String(value);
  }
}

/** @param {string[]} args @param {"pipe" | "inherit"} stdio */
const docker = (args, stdio = "pipe") => spawnSync("docker", args, { stdio, encoding: "utf8", env: dockerEnv });
const present = () => docker(["image", "inspect", "--format", "{{.Id}}", tag]).status === 0;

const probe = docker(["version", "--format", "{{.Server.Version}}"]);
if (probe.error) fail(`cannot run docker: ${probe.error.message}`);
if (present()) {
  console.log(`build-image: ${tag}: present`);
  process.exit(0);
}
console.log(`build-image: ${tag}: building from ${context}`);
// With buildx, --load puts the result in the engine's image store even when the current builder is a container.
const buildx = docker(["buildx", "version"]).status === 0;
const args = [...(buildx ? ["buildx", "build", "--load"] : ["build"]), "--tag", tag];
for (const [name, value] of Object.entries(buildArgs)) args.push("--build-arg", `${name}=${value}`);
args.push(context);
const build = docker(args, "inherit");
if (build.status !== 0)
  fail(`docker ${args.slice(0, buildx ? 2 : 1).join(" ")} of ${tag} failed (exit ${build.status})`);
if (!present()) fail(`the build of ${tag} finished, but the engine has no image ${tag}`);
console.log(`build-image: ${tag}: built`);
