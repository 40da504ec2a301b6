/** DNS queries over UDP and TCP with dns-packet, so `verify` can ask Consul's DNS both ways, as `dig` would. */
import { createSocket } from "node:dgram";
import { Socket } from "node:net";
import * as packet from "dns-packet";

export interface DnsAnswer {
  readonly rcode: string;
  /** The A records' addresses, sorted. */
  readonly addresses: string[];
}

function answerOf(message: packet.Packet): DnsAnswer {
  const addresses = (message.answers ?? [])
    .filter((answer) => answer.type === "A")
    .map((answer) => String((answer as { data: string }).data))
    .sort();
  return { rcode: (message as { rcode?: string }).rcode ?? "NOERROR", addresses };
}

function query(name: string): packet.Packet {
  return {
    type: "query",
    id: Math.floor(Math.random() * 65535),
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: "A", name }],
  };
}

/** The A records for a name, asked over UDP; rejects when no answer comes within the timeout. */
export function resolveUdp(name: string, host: string, port: number, timeoutMs = 2000): Promise<DnsAnswer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.once("message", (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(answerOf(packet.decode(message)));
    });
    socket.send(packet.encode(query(name)), port, host);
  });
}

/** The A records for a name, asked over TCP (length-prefixed messages). */
export function resolveTcp(name: string, host: string, port: number, timeoutMs = 2000): Promise<DnsAnswer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${host}:${port} within ${timeoutMs} ms`));
    });
    socket.once("error", reject);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(answerOf(packet.streamDecode(received)));
      }
    });
    socket.connect(port, host, () => socket.write(packet.streamEncode(query(name))));
  });
}
