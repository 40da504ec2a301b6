// A stand-in for the Docker CLI: it records every call (record.mjs) and answers from FAKE_DOCKER_STATE, a JSON file
// of {version, info, networks, images, registry, containers, buildx}, or from one such file per engine
// (FAKE_DOCKER_HOSTS, see engineStateFile); `build` adds the tag to the state's images.
// Without a state file it behaves like a CLI whose engine is down. Fails on cue (FAKE_FAIL=docker:build).
//
// A container is {Names, Labels: "k=v,...", State, Id?, HostConfig?: {NetworkMode}, Started?}. What a real engine
// does with `container:` network modes (shown by `npm run test:engine`), it does too: a start joins the namespace
// container's current namespace and fails when that one is not running, and `Started` (a logical clock: one more than
// any container's, shown by inspect as StartedAt) orders the starts, so a restarted namespace strands what joined it
// before.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { engineFileName } from "./engine-file.cjs";
import { Answer, failsOnCue, record } from "./record.mjs";

/**
 * The state file of the engine a call reaches: with FAKE_DOCKER_HOSTS (a folder), one engine per endpoint
 * (engine-file.cjs), a missing file being an engine that does not answer; else FAKE_DOCKER_STATE.
 */
export function engineStateFile(env) {
  if (!env.FAKE_DOCKER_HOSTS) return env.FAKE_DOCKER_STATE;
  return join(env.FAKE_DOCKER_HOSTS, engineFileName(env));
}

let saves = 0;

/** @param {import("./record.mjs").FakeCall} call @returns {Promise<import("./record.mjs").FakeAnswer>} */
export async function docker(call) {
  record(call);
  const answer = await answerDocker(call);
  // A stop whose container is down at once, with Docker returning only FAKE_DOCKER_STOP_RETURN_MS later.
  if (call.argv[0] === "stop" && call.env.FAKE_DOCKER_STOP_RETURN_MS)
    await new Promise((resolve) => setTimeout(resolve, Number(call.env.FAKE_DOCKER_STOP_RETURN_MS)));
  return answer;
}

/** @param {import("./record.mjs").FakeCall} call @returns {Promise<import("./record.mjs").FakeAnswer>} */
async function answerDocker(call) {
  const { argv, env } = call;
  const answer = new Answer();
  // A real stop takes its time (the process's own shutdown and Docker's work): FAKE_DOCKER_STOP_MS, and a start
  // FAKE_DOCKER_START_MS. Waited out before
  // the state is read, so concurrent calls each change the state as it is when they act.
  if ((argv[0] === "stop" || argv[0] === "restart") && env.FAKE_DOCKER_STOP_MS)
    await new Promise((resolve) => setTimeout(resolve, Number(env.FAKE_DOCKER_STOP_MS)));
  if (argv[0] === "start" && env.FAKE_DOCKER_START_MS)
    await new Promise((resolve) => setTimeout(resolve, Number(env.FAKE_DOCKER_START_MS)));
  const file = engineStateFile(env);
  const state = file && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
  // Written whole and renamed into place: the stand-in lab reads the file while the fake answers.
  const save = () => {
    const partial = `${file}.${process.pid}.${saves++}`;
    writeFileSync(partial, JSON.stringify(state), { mode: 0o666 & ~call.umask });
    renameSync(partial, file);
  };
  const [command, sub] = argv;
  const idOf = (container) => container.Id ?? container.Names;
  const byName = (name) =>
    (state.containers ?? []).find((candidate) => candidate.Names === name || idOf(candidate) === name);
  /** Starts a container as the engine does, or says why it cannot; undefined when it started. */
  const startContainer = (container) => {
    const mode = container.HostConfig?.NetworkMode ?? "";
    if (mode.startsWith("container:")) {
      const namespace = byName(mode.slice("container:".length));
      if (!namespace) return `Error response from daemon: No such container: ${mode.slice("container:".length)}`;
      if (namespace.State !== "running")
        return `Error response from daemon: cannot join network of a non running container: ${idOf(namespace)}`;
    }
    container.Started = Math.max(0, ...state.containers.map((other) => other.Started ?? 0)) + 1;
    // ExitsOnStart: its program ends at once (a bad config, say): the start succeeds, and it is not running.
    container.State = container.ExitsOnStart ? "exited" : "running";
    return undefined;
  };
  if (failsOnCue(call, command)) {
    answer.err(`docker ${command} failed on cue`);
    return answer.exit(1);
  }

  if (command === "context") {
    // The state's `contexts`, when it lists them, are the only ones there are, as `docker context ls` would show.
    if (env.DOCKER_CONTEXT && state?.contexts && !state.contexts.includes(env.DOCKER_CONTEXT)) {
      answer.err(
        `context "${env.DOCKER_CONTEXT}": context not found: open ~/.docker/contexts/meta: no such file or directory`,
      );
      return answer.exit(1);
    }
    answer.out(JSON.stringify("unix:///var/run/docker.sock"));
  } else if (!state) {
    answer.err(
      `Cannot connect to the Docker daemon at ${env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}. Is the docker daemon running?`,
    );
    return answer.exit(1);
  } else if (command === "version") {
    answer.out(JSON.stringify(state.version));
  } else if (command === "info") {
    // `--format '{{json .Swarm}}'` answers the swarm part alone, as the real CLI's template does.
    const swarm = argv.includes("{{json .Swarm}}");
    answer.out(JSON.stringify(swarm ? (state.info?.Swarm ?? { LocalNodeState: "inactive" }) : (state.info ?? {})));
  } else if (command === "node" && sub === "ls") {
    // A manager's view of the swarm's nodes (`swarmNodes` in the state); a worker cannot list them.
    if (!state.info?.Swarm?.ControlAvailable) {
      answer.err("Error response from daemon: This node is not a swarm manager.");
      return answer.exit(1);
    }
    for (const node of state.swarmNodes ?? []) answer.out(JSON.stringify(node));
  } else if (command === "swarm" && sub === "join-token") {
    if (!state.info?.Swarm?.ControlAvailable) {
      answer.err("Error response from daemon: This node is not a swarm manager.");
      return answer.exit(1);
    }
    answer.out(state.joinToken ?? "SWMTKN-1-fake");
  } else if ((command === "buildx" && sub === "imagetools") || command === "manifest") {
    // A registry lookup: the state's `registry` lists what resolves; without one, every reference does.
    if (command === "buildx" && state.buildx === false) return answer.exit(1);
    const reference = argv[argv.length - 1];
    if (state.registry && !state.registry.includes(reference)) {
      answer.err(`ERROR: ${reference}: not found`);
      return answer.exit(1);
    }
    answer.out(`Name: ${reference}`);
  } else if (command === "buildx" && sub !== "build") {
    return answer.exit(state.buildx === false ? 1 : 0);
  } else if (command === "network" && sub === "ls") {
    for (const network of state.networks ?? []) answer.out(network.Id);
  } else if (command === "network" && sub === "inspect") {
    const ids = argv.slice(2);
    answer.out(JSON.stringify((state.networks ?? []).filter((network) => ids.includes(network.Id))));
  } else if (command === "image" && sub === "inspect") {
    const reference = argv[argv.length - 1];
    if (!(state.images ?? []).includes(reference)) {
      answer.err(`Error response from daemon: No such image: ${reference}`);
      return answer.exit(1);
    }
    // `{{json .RepoDigests}}`: what the registry's copy of the tag was (a built or loaded image has none).
    if (argv.includes("{{json .RepoDigests}}")) answer.out(JSON.stringify(state.repoDigests?.[reference] ?? []));
    else answer.out("sha256:0000");
  } else if (command === "ps") {
    const filter = argv.includes("--filter") ? argv[argv.indexOf("--filter") + 1] : undefined;
    const wanted = filter?.startsWith("label=") ? filter.slice("label=".length) : undefined;
    const all = argv.includes("--all") || argv.includes("-a");
    for (const container of state.containers ?? []) {
      if (!all && container.State && container.State !== "running") continue;
      if (wanted && !(container.Labels ?? "").split(",").includes(wanted)) continue;
      const quiet = argv.includes("--quiet") || argv.includes("-q");
      // `{{json .}}` carries the short ID, as Docker's does, for a container that has an ID of its own.
      const line = container.Id ? { ID: container.Id.slice(0, 12), ...container } : container;
      answer.out(quiet ? (argv.includes("--no-trunc") ? idOf(container) : container.Names) : JSON.stringify(line));
    }
  } else if (command === "inspect") {
    const names = argv.slice(1).filter((arg, at, args) => !arg.startsWith("--") && args[at - 1] !== "--type");
    const found = names.map(byName).filter(Boolean);
    answer.out(
      JSON.stringify(
        found.map((container) => ({
          Id: idOf(container),
          Name: `/${container.Names}`,
          State: {
            Running: container.State === "running",
            Status: container.State,
            StartedAt: new Date(Date.UTC(2026, 0, 1) + (container.Started ?? 0) * 1000).toISOString(),
          },
          HostConfig: { NetworkMode: "bridge", ...(container.HostConfig ?? {}) },
          Config: {
            Labels: Object.fromEntries(
              (container.Labels ?? "")
                .split(",")
                .filter(Boolean)
                .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
            ),
          },
        })),
      ),
    );
    if (found.length < names.length) {
      answer.err(`Error: No such object: ${names.find((name) => !byName(name))}`);
      return answer.exit(1);
    }
  } else if (command === "stop" || command === "start" || command === "restart") {
    const name = argv[argv.length - 1];
    const container = byName(name);
    if (!container) {
      answer.err(`Error response from daemon: No such container: ${name}`);
      return answer.exit(1);
    }
    if (command !== "start") container.State = "exited";
    const failed = command === "stop" ? undefined : startContainer(container);
    save();
    if (failed) {
      answer.err(failed);
      return answer.exit(1);
    }
    answer.out(name);
  } else if (command === "exec") {
    // What runs inside a container is the stand-in lab's business: it answers over HTTP (FAKE_LAB_URL).
    const container = (state.containers ?? []).find((candidate) => candidate.Names === sub);
    if (!container || container.State !== "running") {
      answer.err(`Error response from daemon: container ${sub} is not running`);
      return answer.exit(1);
    }
    const response = await fetch(`${env.FAKE_LAB_URL}/_exec`, {
      method: "POST",
      body: JSON.stringify({ container: sub, command: argv.slice(2) }),
    });
    const ran = await response.json();
    answer.stdout += ran.stdout;
    return answer.exit(ran.status);
  } else if (command === "build" || (command === "buildx" && sub === "build")) {
    const tag = argv[argv.indexOf("--tag") + 1];
    state.images = [...(state.images ?? []), tag];
    save();
    answer.out(`naming to ${tag} done`);
  } else {
    answer.err(`the fake does not know \`docker ${argv.join(" ")}\``);
    return answer.exit(1);
  }
  return answer.exit(0);
}
