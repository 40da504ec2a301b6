// Waits until the Consul cluster has elected a leader, asking the published HTTP API. Run by the cluster stack (a
// terraform_data local-exec) once every server's container exists; what needs a leader comes after it.
//
// Environment:
//   CONSUL_HTTP_ADDR                    host:port of an agent (the published API)
//   CONSUL_LAB_LEADER_TIMEOUT_SECONDS   how long to wait (default 180)
//   CONSUL_LAB_LEADER_POLL_MS           how often to ask (default 1000)
import process from "node:process";

const address = process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const base = /^https?:\/\//.test(address) ? address : `http://${address}`;
const timeoutSeconds = Number(process.env.CONSUL_LAB_LEADER_TIMEOUT_SECONDS ?? 180);
const pollMs = Number(process.env.CONSUL_LAB_LEADER_POLL_MS ?? 1000);
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(0);

let lastSeen = "no answer yet";
let lastReport = 0;
for (;;) {
  try {
    const response = await fetch(`${base}/v1/status/leader`, { signal: AbortSignal.timeout(3000) });
    const body = (await response.text()).trim();
    // Consul answers `"10.0.1.1:8300"` once a leader is elected, and `""` before.
    const leader = response.ok ? JSON.parse(body) : "";
    if (typeof leader === "string" && leader.includes(":")) {
      console.log(`wait-for-leader: leader ${leader} after ${elapsed()} s`);
      process.exit(0);
    }
    lastSeen = response.ok ? "no leader elected yet" : `HTTP ${response.status} ${body}`;
  } catch (error) {
    lastSeen = `cannot reach ${base}: ${error.cause?.message ?? error.message}`;
  }
  if (Date.now() - started >= timeoutSeconds * 1000) {
    console.error(
      `wait-for-leader: no leader after ${timeoutSeconds} s (${lastSeen}). ` +
        "Check the servers' logs (docker logs <lab>-<server>): every server must be running for bootstrap_expect.",
    );
    process.exit(1);
  }
  if (Date.now() - lastReport >= 10000) {
    // Terraform shows a provisioner's output as it comes, so a slow election shows progress instead of silence.
    console.log(`wait-for-leader: waiting for a leader at ${base} (${elapsed()} s: ${lastSeen})`);
    lastReport = Date.now();
  }
  await new Promise((resolve) => setTimeout(resolve, pollMs));
}
