/** Consul's HTTP API (HTTPS in "secure" labs): what `verify` reads, and the one write an operator makes. */
import { httpExchange, type LabTlsTrust } from "./http-exchange";

export interface ApiAnswer<T> {
  readonly status: number;
  /** The JSON body; undefined when the text is empty or not whole JSON. */
  readonly body: T | undefined;
  readonly text: string;
  /**
   * Consul left out what the token may not read (`X-Consul-Results-Filtered-By-ACLs: true`, set for a request with a
   * token; agent/agent_endpoint.go AgentMembers, and every endpoint that proxies to an RPC).
   */
  readonly filteredByAcls: boolean;
}

/**
 * What verify cannot judge from an answer (a body cut short, a shape Consul never gives): the fact says "cannot
 * judge" and why, rather than a verdict on half an answer.
 */
export class CannotJudge extends Error {}

/** One agent's HTTP API, with the operator's token on every request unless a request asks to be anonymous. */
export class ConsulApi {
  /** How HTTPS is trusted ("secure" labs), or undefined for the article's plain HTTP. */
  readonly tls: LabTlsTrust | undefined;
  private readonly timeoutMs: number;

  constructor(
    /** `host:port` of an agent's API. */
    readonly address: string,
    /** The token for reads and the operator's writes ("secure" mode); undefined for an open lab. */
    private readonly token: string | undefined,
    options: { readonly tls?: LabTlsTrust; readonly timeoutMs?: number } = {},
  ) {
    this.tls = options.tls;
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  /** `https://host:port` or `http://host:port`. */
  get url(): string {
    return `${this.tls ? "https" : "http"}://${this.address}`;
  }

  async request<T>(
    method: string,
    path: string,
    options: { body?: string; anonymous?: boolean } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (this.token && !options.anonymous) headers["X-Consul-Token"] = this.token;
    const {
      status,
      body: text,
      headers: answerHeaders,
    } = await httpExchange(`${this.url}${path}`, {
      method,
      headers,
      body: options.body,
      timeoutMs: this.timeoutMs,
      tls: this.tls,
    });
    let body: T | undefined;
    try {
      body = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      body = undefined;
    }
    return { status, body, text, filteredByAcls: answerHeaders?.["x-consul-results-filtered-by-acls"] === "true" };
  }

  /** A GET that must answer 200 with whole JSON; its body. */
  async get<T>(path: string): Promise<T> {
    const answer = await this.request<T>("GET", path);
    if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status} ${answer.text.trim()}`);
    if (answer.body === undefined)
      throw new CannotJudge(
        `GET ${path}: HTTP 200 with ${answer.text ? `a body that is not whole JSON (${answer.text.length} bytes, cut short?)` : "an empty body"}`,
      );
    return answer.body;
  }

  /** A KV value as text, or undefined when the key does not exist. */
  async kv(key: string): Promise<string | undefined> {
    const answer = await this.request<unknown>("GET", `/v1/kv/${key}?raw`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`reading ${key}: HTTP ${answer.status} ${answer.text.trim()}`);
    return answer.text;
  }

  async putKv(key: string, value: string): Promise<void> {
    const answer = await this.request<boolean>("PUT", `/v1/kv/${key}`, { body: value });
    if (answer.status !== 200 || answer.text.trim() !== "true")
      throw new Error(`writing ${key}: HTTP ${answer.status} ${answer.text.trim()}`);
  }

  /** Deletes a key; a key already gone is fine, any other answer is a failure. */
  async deleteKv(key: string): Promise<void> {
    const answer = await this.request("DELETE", `/v1/kv/${key}`);
    if (answer.status !== 200 && answer.status !== 404)
      throw new Error(`deleting ${key}: HTTP ${answer.status} ${answer.text.trim()}`);
  }
}

/** One instance in /v1/health/service/<name>. */
export interface HealthEntry {
  readonly Node: { readonly Node: string; readonly Address: string };
  readonly Service: {
    readonly ID: string;
    readonly Service: string;
    readonly Tags: readonly string[] | null;
    readonly Port: number;
  };
  readonly Checks: readonly {
    readonly CheckID: string;
    readonly Name: string;
    readonly Status: string;
    readonly Output: string;
  }[];
}
