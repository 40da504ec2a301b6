import { createHmac } from "node:crypto";

/** A UUID-shaped value derived from a key and a label (HMAC-SHA256), with the version-4 and variant bits set. */
export function derivedUuid(key: string, label: string): string {
  const bytes = createHmac("sha256", key).update(label).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
