/**
 * One HTTP(S) exchange with node:http or node:https: what verify and the CLI use to reach the lab. Unlike fetch, it
 * sends the Host header it is given (a vhost check through fetch would reach the default server), and it trusts the
 * lab's own CA for HTTPS, checking the name Consul's servers carry rather than the address dialed.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** How to trust the lab's HTTPS API: its CA (PEM), and the name its certificate must carry. */
export interface LabTlsTrust {
  readonly ca: string;
  /** Checked instead of the dialed address (`server.<dc>.<domain>`), so only a server's certificate passes. */
  readonly serverName: string;
}

export interface HttpExchange {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The whole exchange, not only an idle socket, is bounded. @default 2000 */
  readonly timeoutMs?: number;
  /** Required for an https: URL. */
  readonly tls?: LabTlsTrust;
}

/** An answer: its status, its body, where a redirect points, and its headers (names in lower case). */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly location?: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

export function httpExchange(url: string, options: HttpExchange = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const secure = url.startsWith("https:");
  if (secure && !options.tls) return Promise.reject(new Error(`${url}: HTTPS needs the lab's CA`));
  return new Promise((resolve, reject) => {
    const settings = {
      method: options.method ?? "GET",
      headers: options.headers ?? {},
      // The lab's CA only, and its checks always: NODE_TLS_REJECT_UNAUTHORIZED=0 would otherwise turn them off.
      ...(secure ? { ca: options.tls!.ca, servername: options.tls!.serverName, rejectUnauthorized: true } : {}),
    };
    const onResponse = (response: import("node:http").IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      // A connection cut mid-answer (a backend stopped by the drill) ends here instead of never.
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body,
          location: response.headers.location,
          headers: response.headers,
        }),
      );
    };
    const request = secure ? httpsRequest(url, settings, onResponse) : httpRequest(url, settings, onResponse);
    const deadline = setTimeout(
      () => request.destroy(new Error(`no full answer from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    request.on("close", () => clearTimeout(deadline));
    request.on("error", reject);
    request.end(options.body);
  });
}
