/** What the site answers at its entry: one GET, and which page it was (an app server's, the sorry page, or neither). */
import { httpExchange, type HttpAnswer, type LabTlsTrust } from "./http-exchange";

/** What the entry answered: which kind of page, and from which node. */
export interface SitePage {
  readonly status: number;
  readonly kind: "app" | "sorry" | "other";
  readonly node?: string;
}

/** One GET, with the Host header it is given (see http-exchange.ts). */
export function httpGet(url: string, hostHeader?: string, timeoutMs = 2000, tls?: LabTlsTrust): Promise<HttpAnswer> {
  return httpExchange(url, { headers: hostHeader ? { Host: hostHeader } : {}, timeoutMs, tls });
}

/** Asks the entry (or a vhost, with `hostHeader`) once and says which page answered. */
export async function fetchSitePage(url: string, hostHeader?: string, timeoutMs?: number): Promise<SitePage> {
  const response = await httpGet(url, hostHeader, timeoutMs);
  const text = response.body;
  const app = /Served by app server ([A-Za-z0-9-]+)/.exec(text);
  const sorry = /Sorry, no app server is available\. Served by ([A-Za-z0-9-]+)/.exec(text);
  if (response.status === 200 && app) return { status: 200, kind: "app", node: app[1] };
  if (response.status === 200 && sorry) return { status: 200, kind: "sorry", node: sorry[1] };
  return { status: response.status, kind: "other" };
}
