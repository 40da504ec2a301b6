/** Small IPv4 arithmetic for subnet checks; the lab only ever needs dotted-quad addresses and CIDRs. */

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
export const IPV4_PATTERN = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
export const CIDR_PATTERN = new RegExp(`^${OCTET}(\\.${OCTET}){3}/(3[0-2]|[12]?\\d)$`);

export function ipv4ToInt(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Subnet {
  readonly network: number;
  readonly prefixLength: number;
  readonly size: number;
}

export function parseCidr(cidr: string): Subnet {
  const [address, prefix] = cidr.split("/");
  const prefixLength = Number(prefix);
  const size = 2 ** (32 - prefixLength);
  return { network: Math.floor(ipv4ToInt(address) / size) * size, prefixLength, size };
}

/** Whether the CIDR names its network address (10.0.1.0/24), not a host inside it (10.0.1.7/24). */
export function isNetworkAddress(cidr: string): boolean {
  return ipv4ToInt(cidr.split("/")[0]) === parseCidr(cidr).network;
}

/** Addresses a container may take: inside the subnet, neither the network nor the broadcast address. */
export function isUsableHost(subnet: Subnet, address: string): boolean {
  const value = ipv4ToInt(address);
  return value > subnet.network && value < subnet.network + subnet.size - 1;
}

/** The last usable address; the lab's default gateway, so that .1 stays free for the first node as in the article. */
export function lastUsableHost(subnet: Subnet): string {
  return intToIpv4(subnet.network + subnet.size - 2);
}

/** Whether two subnets share an address. */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** The routes of a kernel route table, as Linux's `/proc/net/route` lists them (hexadecimal, little-endian). */
export function hostRoutes(table: string): { iface: string; subnet: Subnet; cidr: string }[] {
  const fromHex = (hex: string) => Buffer.from(hex, "hex").readUInt32LE(0);
  return table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 8 && /^[0-9A-Fa-f]{8}$/.test(fields[1]))
    .map(([iface, destination, , , , , , mask]) => {
      const network = fromHex(destination);
      const prefixLength = fromHex(mask).toString(2).replace(/0/g, "").length;
      const cidr = `${[24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join(".")}/${prefixLength}`;
      return { iface, subnet: parseCidr(cidr), cidr };
    })
    .filter((route) => route.subnet.prefixLength > 0);
}

/** The top quarter of a subnet, as a subnet of its own (10.0.1.192/26 of 10.0.1.0/24). */
export function topQuarter(subnet: Subnet): Subnet {
  const size = Math.max(1, subnet.size / 4);
  return { network: subnet.network + subnet.size - size, prefixLength: Math.min(32, subnet.prefixLength + 2), size };
}

/** Whether an address lies in a subnet. */
export function contains(subnet: Subnet, address: string): boolean {
  const value = ipv4ToInt(address);
  return value >= subnet.network && value < subnet.network + subnet.size;
}

/** A subnet as a CIDR, such as 10.0.1.128/25. */
export function cidrOf(subnet: Subnet): string {
  return `${intToIpv4(subnet.network)}/${subnet.prefixLength}`;
}

/** The loopback network, 127.0.0.0/8. */
const LOOPBACK = parseCidr("127.0.0.0/8");

/** Whether an address is on the loopback network, 127.0.0.0/8. */
export function isLoopbackAddress(address: string): boolean {
  return contains(LOOPBACK, address);
}

/** Whether a listener bound to this address takes loopback traffic: a loopback address, or the wildcard 0.0.0.0. */
export function bindsLoopback(address: string): boolean {
  return address === "0.0.0.0" || isLoopbackAddress(address);
}
