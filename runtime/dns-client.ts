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

/**
 * A DNS message decoded, or an Error that says it was not one: dns-packet throws on junk ("Header must be 12 bytes"),
 * and a throw inside a socket's handler would end the process instead of failing the one lookup.
 */
function decoded(decode: () => packet.Packet, from: string): DnsAnswer | Error {
  try {
    return answerOf(decode());
  } catch (error) {
    return new Error(`malformed DNS answer from ${from} (${(error as Error).message})`);
  }
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
      const answer = decoded(() => packet.decode(message), `${host}:${port}`);
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    });
    socket.send(packet.encode(query(name)), port, host);
  });
}

/**
 * The A records for a name, asked over TCP (length-prefixed messages), with one deadline over the whole exchange. A
 * connection closed without a full answer rejects: Docker's proxy accepts on a published port and closes at once when
 * nothing listens behind it, and an exchange that could never settle would let the process end without a verdict.
 */
export function resolveTcp(name: string, host: string, port: number, timeoutMs = 2000): Promise<DnsAnswer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      outcome();
    };
    const deadline = setTimeout(
      () => settle(() => reject(new Error(`no TCP answer from ${host}:${port} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.once("error", (error) => settle(() => reject(error)));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const message = received;
        const answer = decoded(() => packet.streamDecode(message), `${host}:${port}`);
        settle(() => (answer instanceof Error ? reject(answer) : resolve(answer)));
      }
    });
    socket.once("close", () =>
      settle(() => reject(new Error(`${host}:${port} closed the TCP connection without a full DNS answer`))),
    );
    socket.connect(port, host, () => socket.write(packet.streamEncode(query(name))));
  });
}
