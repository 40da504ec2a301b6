/**
 * Loopback ports for what a test must tell a port before it binds it (nginx, dnsmasq, a topology's published ports).
 * They come from below Linux's ephemeral range (32768-60999; macOS starts at 49152), so no port the kernel hands out
 * for `listen(0)` or an outgoing connection can take one between the check here and the bind; and each is reserved
 * for the whole test run by creating a file named after it in the run's directory (global-setup.js), which only one
 * worker can do.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tryBind } from "../../cli/port-probe";

const FIRST_PORT = 20000;
const LAST_PORT = 32767;
/** Where this process looks next: the ports below are reserved already, by it or by another worker. */
let next = FIRST_PORT;

/** Whether this process is the first of the run to ask for the port. */
function reserve(port: number): boolean {
  const dir = join(process.env.CONSUL_LAB_TEST_RUN_DIR ?? tmpdir(), "reserved-ports");
  mkdirSync(dir, { recursive: true });
  try {
    closeSync(openSync(join(dir, String(port)), "wx"));
    return true;
  } catch {
    return false;
  }
}

/** A port free on 127.0.0.1 for both TCP and UDP, never handed out twice in a test run. */
export async function freeLoopbackPort(): Promise<number> {
  while (next <= LAST_PORT) {
    const port = next++;
    // Bound as the doctor binds a port the lab will publish.
    if (reserve(port) && !(await tryBind("127.0.0.1", port, "tcp")) && !(await tryBind("127.0.0.1", port, "udp")))
      return port;
  }
  throw new Error(`no free loopback port left between ${FIRST_PORT} and ${LAST_PORT} in this test run`);
}
