/**
 * `npm run repair`: makes every node of the lab whole again after a restart that Docker does not heal by itself.
 *
 * A node's pod is its namespace container and the containers joined to it (agent, workload, DNS forwarder); the pod
 * is whole when the namespace container runs and every joined container runs inside that namespace's current network
 * namespace, not one it had before a restart (runtime/node-pods.ts says why that can happen). Repair starts each
 * stopped namespace container, then starts or restarts each joined container that is stopped or stranded.
 * Idempotent: a whole lab is left untouched. Resolves to whether the lab is whole at the end.
 */
import type { DockerCli } from "../runtime/docker-cli";
import { LAB_LABEL } from "../shared/labels";
import { type LabEngine, onHost } from "../runtime/lab-engines";
import { assessPods, inspectLab, NodePod, podIsWhole, podProblems } from "../runtime/node-pods";
import type { DeployedContainers } from "../runtime/deployed-containers";

/** Seconds Docker gives a stranded container to stop before it is killed, on restart. */
const RESTART_GRACE_SECONDS = 10;

/** Runs one `docker start|restart` and says what happened, in Docker's own words when it failed. */
async function act(docker: DockerCli, args: string[], say: (line: string) => void, done: string): Promise<boolean> {
  const result = await docker.runAsync(args);
  if (result.status === 0) say(done);
  else say(`docker ${args.join(" ")} failed: ${(result.startError ?? result.stderr).trim()}`);
  return result.status === 0;
}

/**
 * Repairs the lab on each of its engines (runtime/lab-engines.ts), host by host: a node's containers all run on its
 * host, so each host's pods are judged and healed by its own engine. Whether every host's nodes are whole at the end.
 */
export async function repairLab(
  engines: readonly LabEngine[],
  labName: string,
  say: (line: string) => void,
  /** The containers the checkout deployed (runtime/deployed-containers.ts); undefined: the labels decide. */
  deployed?: DeployedContainers,
): Promise<boolean> {
  let whole = true;
  for (const engine of engines) {
    const sayOnHost = engine.host ? (line: string) => say(`${engine.host!.name}: ${line}`) : say;
    try {
      whole = (await repairOnEngine(engine.docker, labName, sayOnHost, deployed)) && whole;
    } catch (error) {
      say(`cannot repair the nodes${onHost(engine)}: ${(error as Error).message}; check \`npm run doctor\``);
      whole = false;
    }
  }
  return whole;
}

async function repairOnEngine(
  docker: DockerCli,
  labName: string,
  say: (line: string) => void,
  deployed: DeployedContainers,
): Promise<boolean> {
  let pods = assessPods(await inspectLab(docker, labName, deployed));
  if (pods.length === 0) {
    say(`no container of lab ${labName} was found (label ${LAB_LABEL}=${labName}); deploy it with \`npm run deploy\``);
    return false;
  }
  let acted = 0;
  for (const pod of pods) {
    if (pod.namespace && !pod.namespaceRunning) {
      if (await act(docker, ["start", pod.namespace], say, `started ${pod.namespace} (the namespace of ${pod.node})`))
        acted++;
    }
  }
  // The namespaces' start times changed: what is stranded is judged against them now.
  if (acted > 0) pods = assessPods(await inspectLab(docker, labName, deployed));
  for (const pod of pods) {
    if (!pod.namespaceRunning) continue;
    for (const container of pod.joined) {
      if (container.state === "stopped") {
        if (await act(docker, ["start", container.name], say, `started ${container.name}`)) acted++;
      } else if (container.state === "stranded") {
        const restart = ["restart", "--time", String(RESTART_GRACE_SECONDS), container.name];
        if (await act(docker, restart, say, `restarted ${container.name} into its node's namespace`)) acted++;
      }
    }
  }
  if (acted > 0) pods = assessPods(await inspectLab(docker, labName, deployed));
  return report(pods, acted, say);
}

function report(pods: readonly NodePod[], acted: number, say: (line: string) => void): boolean {
  const broken = pods.filter((pod) => !podIsWhole(pod));
  for (const pod of broken) {
    const detached = pod.joined.some((container) => container.state === "detached") || !pod.namespace;
    const fix = detached ? "; its containers were replaced outside Terraform: run `npm run deploy`" : "";
    say(`${pod.node} is not whole: ${podProblems(pod).join(", ")}${fix}`);
  }
  if (broken.length === 0) {
    say(acted === 0 ? `all ${pods.length} nodes are whole; nothing to do` : `all ${pods.length} nodes are whole again`);
    return true;
  }
  say(`${broken.length} of ${pods.length} nodes are not whole`);
  return false;
}
