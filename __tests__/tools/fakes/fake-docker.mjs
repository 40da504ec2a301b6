// A stand-in for the Docker CLI: it records every call (record.mjs) and answers from FAKE_DOCKER_STATE, a JSON file
// of {version, info, networks, images, containers, buildx}; `build` adds the tag to the state's images. Without a
// state file it behaves like a CLI whose engine is down. Fails on cue (FAKE_FAIL=docker:build).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import process from "node:process";
import { failsOnCue, record } from "./record.mjs";

record("docker");
const argv = process.argv.slice(2);
const file = process.env.FAKE_DOCKER_STATE;
const state = file && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
// Written whole and renamed into place: the stand-in lab reads the file while this process runs.
const save = () => {
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(state));
  renameSync(`${file}.${process.pid}`, file);
};
const down = () => {
  console.error("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
  process.exit(1);
};
const [command, sub] = argv;
if (failsOnCue("docker", command)) {
  console.error(`docker ${command} failed on cue`);
  process.exit(1);
}

if (command === "context") {
  console.log(JSON.stringify("unix:///var/run/docker.sock"));
} else if (!state) {
  down();
} else if (command === "version") {
  console.log(JSON.stringify(state.version));
} else if (command === "info") {
  console.log(JSON.stringify(state.info ?? {}));
} else if (command === "buildx" && sub !== "build") {
  process.exit(state.buildx === false ? 1 : 0);
} else if (command === "network" && sub === "ls") {
  for (const network of state.networks ?? []) console.log(network.Id);
} else if (command === "network" && sub === "inspect") {
  const ids = argv.slice(2);
  console.log(JSON.stringify((state.networks ?? []).filter((network) => ids.includes(network.Id))));
} else if (command === "image" && sub === "inspect") {
  const reference = argv[argv.length - 1];
  if (!(state.images ?? []).includes(reference)) {
    console.error(`Error response from daemon: No such image: ${reference}`);
    process.exit(1);
  }
  console.log("sha256:0000");
} else if (command === "ps") {
  const filter = argv.includes("--filter") ? argv[argv.indexOf("--filter") + 1] : undefined;
  const wanted = filter?.startsWith("label=") ? filter.slice("label=".length) : undefined;
  const all = argv.includes("--all") || argv.includes("-a");
  for (const container of state.containers ?? []) {
    if (!all && container.State && container.State !== "running") continue;
    if (wanted && !(container.Labels ?? "").split(",").includes(wanted)) continue;
    console.log(argv.includes("--quiet") || argv.includes("-q") ? container.Names : JSON.stringify(container));
  }
} else if (command === "inspect") {
  const names = argv.slice(1);
  const found = (state.containers ?? []).filter((container) => names.includes(container.Names));
  console.log(
    JSON.stringify(found.map((container) => ({ Name: `/${container.Names}`, HostConfig: container.HostConfig ?? {} }))),
  );
} else if (command === "stop" || command === "start") {
  const container = (state.containers ?? []).find((candidate) => candidate.Names === sub);
  if (!container) {
    console.error(`Error response from daemon: No such container: ${sub}`);
    process.exit(1);
  }
  container.State = command === "stop" ? "exited" : "running";
  save();
  console.log(sub);
} else if (command === "exec") {
  // What runs inside a container is the stand-in lab's business: it answers over HTTP (FAKE_LAB_URL).
  const container = (state.containers ?? []).find((candidate) => candidate.Names === sub);
  if (!container || container.State !== "running") {
    console.error(`Error response from daemon: container ${sub} is not running`);
    process.exit(1);
  }
  const response = await fetch(`${process.env.FAKE_LAB_URL}/_exec`, {
    method: "POST",
    body: JSON.stringify({ container: sub, command: argv.slice(2) }),
  });
  const answer = await response.json();
  process.stdout.write(answer.stdout);
  process.exit(answer.status);
} else if (command === "build" || (command === "buildx" && sub === "build")) {
  const tag = argv[argv.indexOf("--tag") + 1];
  state.images = [...(state.images ?? []), tag];
  save();
  console.log(`naming to ${tag} done`);
} else {
  console.error(`the fake does not know \`docker ${argv.join(" ")}\``);
  process.exit(1);
}
