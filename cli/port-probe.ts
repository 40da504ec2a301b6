/** Whether a port can be bound as the lab publishes it: the doctor's ports check, and the tests' free ports. */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** Binds a port as the lab would publish it; resolves to the error code when it cannot. */
export function tryBind(address: string, port: number, protocol: "tcp" | "udp"): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (protocol === "tcp") {
      const server = createServer();
      server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
    } else {
      const socket = createSocket("udp4");
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(undefined)));
    }
  });
}
