/**
 * Loopback ports for what a test must tell a port before it binds it (nginx, dnsmasq, a topology's published ports).
 * Each Jest worker takes them from a block of its own below Linux's ephemeral range (32768-60999; macOS starts at
 * 49152), so neither another worker nor a port the kernel hands out for `listen(0)` or an outgoing connection can
 * take one between the check here and the bind.
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const FIRST_PORT = 20000;
const BLOCK_SIZE = 1000;
const BLOCKS = 12;
let handedOut = 0;

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 for both TCP and UDP, never handed out twice in a run. */
export async function freeLoopbackPort(): Promise<number> {
  const block = (Number(process.env.JEST_WORKER_ID ?? 1) - 1) % BLOCKS;
  while (handedOut < BLOCK_SIZE) {
    const port = FIRST_PORT + block * BLOCK_SIZE + handedOut++;
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
  throw new Error(
    `every port of this worker's block (${FIRST_PORT + block * BLOCK_SIZE}, ${BLOCK_SIZE} ports) is taken`,
  );
}
