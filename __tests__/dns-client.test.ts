/**
 * verify's DNS client against what a published port does with nothing behind it: Docker's proxy accepts the TCP
 * connection and closes it. Every exchange must settle, with one deadline over all of it.
 */
import { createServer, Server, Socket } from "node:net";
import { createSocket } from "node:dgram";
import { resolveTcp, resolveUdp } from "../runtime/dns-client";

async function listening(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    // The client hangs up first in these tests: what the server still writes then is nobody's error.
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe("DNS over TCP", () => {
  it("rejects a connection closed without an answer, at once", async () => {
    const { server, port } = await listening((socket) => socket.end());
    const started = Date.now();
    await expect(resolveTcp("dev1001.node.consul", "127.0.0.1", port, 5000)).rejects.toThrow(
      `127.0.0.1:${port} closed the TCP connection without a full DNS answer`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    server.close();
  });

  it("rejects half an answer at the deadline of the whole exchange, however it trickles in", async () => {
    const { server, port } = await listening((socket) => {
      // A length prefix for 100 bytes, then a byte every 100 ms: never idle, never complete.
      socket.write(Buffer.from([0, 100]));
      const drip = setInterval(() => {
        if (!socket.destroyed && socket.writable) socket.write(Buffer.from([0]));
      }, 100);
      socket.on("close", () => clearInterval(drip));
    });
    const started = Date.now();
    await expect(resolveTcp("dev1001.node.consul", "127.0.0.1", port, 600)).rejects.toThrow("no TCP answer");
    expect(Date.now() - started).toBeLessThan(1500);
    server.close();
  });
});

describe("a malformed DNS answer", () => {
  it("rejects over UDP with what it was, instead of throwing in the socket's handler", async () => {
    const server = createSocket("udp4");
    server.on("message", (_message, from) => server.send(Buffer.from([1, 2, 3]), from.port, from.address));
    await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
    const { port } = server.address();
    await expect(resolveUdp("dev1001.node.consul", "127.0.0.1", port, 2000)).rejects.toThrow(
      `malformed DNS answer from 127.0.0.1:${port}`,
    );
    server.close();
  });

  it("rejects over TCP with what it was", async () => {
    const { server, port } = await listening((socket) => socket.end(Buffer.from([0, 3, 1, 2, 3])));
    await expect(resolveTcp("dev1001.node.consul", "127.0.0.1", port, 2000)).rejects.toThrow(
      `malformed DNS answer from 127.0.0.1:${port}`,
    );
    server.close();
  });
});
