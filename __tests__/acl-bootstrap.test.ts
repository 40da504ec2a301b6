import { execFile } from "node:child_process";
import type { Server } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { ANONYMOUS_TOKEN_ACCESSOR, renderAclPlan, roleAccessorId } from "../renderers";
import { jsonFileText } from "../shared/generated-file";
import { ensureLabTls, generateSecrets, roleTokenSecrets } from "../secrets";
import { articleInput, labOf } from "./tools/helpers";

const SCRIPT = join(__dirname, "..", "scripts", "deploy-time", "acl-bootstrap.mjs");
const MANAGEMENT = "6a1d7c1e-0c55-4c1e-9d8e-6f5b7f1f2a10";
/** The lab's TLS material: the fake serves HTTPS as the first server's published API does. */
const TLS = ensureLabTls(labOf(), join(mkdtempSync(join(tmpdir(), "consul-lab-acl-tls-")), "tls"));

/** An in-memory stand-in for Consul's ACL endpoints on loopback, over HTTPS with a server's certificate. */
class FakeAclApi {
  policies = new Map<string, { ID: string; Name: string; Description: string; Rules: string }>();
  tokens = new Map<
    string,
    { AccessorID: string; SecretID: string; Description: string; Policies: { Name: string }[] }
  >();
  writes: string[] = [];
  leaderlessRequests = 0;
  /** Requests answered as if the management token did not exist yet. */
  unknownManagementRequests = 0;
  private server?: Server;
  address = "";

  reset(): void {
    this.policies.clear();
    this.tokens.clear();
    this.tokens.set(ANONYMOUS_TOKEN_ACCESSOR, {
      AccessorID: ANONYMOUS_TOKEN_ACCESSOR,
      SecretID: "anonymous",
      Description: "Anonymous Token",
      Policies: [],
    });
    this.writes = [];
    this.leaderlessRequests = 0;
    this.unknownManagementRequests = 0;
  }

  async start(): Promise<void> {
    this.reset();
    this.server = createServer(TLS.servers.dev1001, (request, response) => {
      let text = "";
      request.on("data", (chunk) => (text += chunk));
      request.on("end", () => {
        const reply = (status: number, body: unknown) => {
          response.statusCode = status;
          response.end(typeof body === "string" ? body : JSON.stringify(body));
        };
        if (this.leaderlessRequests > 0) {
          this.leaderlessRequests -= 1;
          return reply(500, "No cluster leader");
        }
        if (this.unknownManagementRequests > 0) {
          this.unknownManagementRequests -= 1;
          return reply(403, "ACL not found");
        }
        if (request.headers["x-consul-token"] !== MANAGEMENT) return reply(403, "ACL not found");
        const body = text ? JSON.parse(text) : undefined;
        const path = request.url ?? "";
        const method = request.method ?? "";
        let match: RegExpExecArray | null;
        if (method !== "GET") this.writes.push(`${method} ${path}`);
        if (path === "/v1/acl/token/self" && method === "GET") return reply(200, { AccessorID: "management" });
        if ((match = /^\/v1\/acl\/policy\/name\/(.+)$/.exec(path)) && method === "GET") {
          const policy = [...this.policies.values()].find(
            (candidate) => candidate.Name === decodeURIComponent(match![1]),
          );
          return policy ? reply(200, policy) : reply(403, "ACL not found");
        }
        if (path === "/v1/acl/policy" && method === "PUT") {
          const policy = { ...body, ID: `policy-${this.policies.size + 1}` };
          this.policies.set(policy.ID, policy);
          return reply(200, policy);
        }
        if ((match = /^\/v1\/acl\/policy\/(.+)$/.exec(path)) && method === "PUT") {
          this.policies.set(match[1], { ...body, ID: match[1] });
          return reply(200, this.policies.get(match[1]));
        }
        if (path === "/v1/acl/tokens" && method === "GET") {
          return reply(
            200,
            [...this.tokens.values()].map(({ AccessorID, Description }) => ({ AccessorID, Description })),
          );
        }
        if ((match = /^\/v1\/acl\/token\/(.+)$/.exec(path))) {
          const token = this.tokens.get(match[1]);
          if (method === "GET") return token ? reply(200, token) : reply(403, "ACL not found");
          if (method === "DELETE")
            return this.tokens.delete(match[1]) ? reply(200, "true") : reply(403, "ACL not found");
          if (method === "PUT") {
            if (!token) return reply(403, "ACL not found");
            this.tokens.set(match[1], { ...token, ...body, SecretID: token.SecretID });
            return reply(200, this.tokens.get(match[1]));
          }
        }
        if (path === "/v1/acl/token" && method === "PUT") {
          if (this.tokens.has(body.AccessorID)) return reply(400, "Token AccessorID already in use");
          this.tokens.set(body.AccessorID, body);
          return reply(200, body);
        }
        return reply(404, `unexpected ${method} ${path}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.address = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

const lab = labOf();
const plan = renderAclPlan(lab);
const planText = jsonFileText(plan);

/**
 * Runs the script as Terraform does: in a stack directory holding the plan file and the variables file, with the
 * environment the synthesized provisioner sets.
 */
function bootstrap(
  api: FakeAclApi,
  roleTokens: Record<string, string>,
  token = MANAGEMENT,
  change: { planText?: string; synthesizedPlan?: string; withoutVariables?: boolean; untrusted?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stackDir = mkdtempSync(join(tmpdir(), "consul-lab-acl-stack-"));
  // `synthesizedPlan`: another topology's plan, as its own synth would write it (file and digest agree).
  const synthesized = change.synthesizedPlan ?? planText;
  writeFileSync(join(stackDir, "acl-plan.json"), change.planText ?? synthesized);
  // What synth links into the stack's directory (stacks/secret-variables.ts), and Node trusts through the environment.
  writeFileSync(join(stackDir, "lab-ca.pem"), TLS.caCert);
  if (!change.withoutVariables)
    writeFileSync(
      join(stackDir, "secrets.auto.tfvars.json"),
      JSON.stringify({ gossip_key: "unused", management_token: token, role_tokens: roleTokens }),
    );
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [SCRIPT],
      {
        cwd: stackDir,
        env: {
          ...process.env,
          CONSUL_HTTP_ADDR: `https://${api.address}`,
          NODE_EXTRA_CA_CERTS: change.untrusted ? "" : "lab-ca.pem",
          CONSUL_LAB_ACL_PLAN_FILE: "acl-plan.json",
          CONSUL_LAB_ACL_PLAN_SHA256: createHash("sha256").update(synthesized).digest("hex"),
          CONSUL_LAB_SECRET_VARIABLES_FILE: "secrets.auto.tfvars.json",
          CONSUL_LAB_MANAGEMENT_TOKEN_VARIABLE: "management_token",
          CONSUL_LAB_ROLE_TOKENS_VARIABLE: "role_tokens",
          CONSUL_LAB_ACL_ATTEMPTS: "5",
          CONSUL_LAB_ACL_RETRY_MS: "20",
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("the ACL bootstrap", () => {
  const api = new FakeAclApi();
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => api.reset());
  const secrets = generateSecrets();
  const roleTokens = roleTokenSecrets(lab, secrets);

  it("sends nothing to an API whose certificate it cannot trust", async () => {
    const run = await bootstrap(api, roleTokens, MANAGEMENT, { untrusted: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/certificate/);
    expect(api.writes).toEqual([]);
  });

  it("creates every policy and a token per role with its derived secret", async () => {
    const run = await bootstrap(api, roleTokens);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect([...api.policies.values()].map((policy) => [policy.Name, policy.Rules])).toEqual(
      plan.policies.map((policy) => [policy.name, policy.rules]),
    );
    for (const token of plan.tokens) {
      expect(api.tokens.get(token.accessorId)).toMatchObject({
        SecretID: roleTokens[token.role],
        Policies: [{ Name: token.role }],
      });
    }
    // Anonymous requests may do nothing: DNS answers with its own token.
    expect(api.tokens.get(ANONYMOUS_TOKEN_ACCESSOR)!.Policies).toEqual([]);
  });

  it("deletes the tokens of nodes removed from the topology, and leaves tokens it did not make", async () => {
    const bigger = articleInput();
    bigger.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    bigger.services[2].nodes.push("dev1007");
    const biggerLab = labOf(bigger);
    const biggerPlan = jsonFileText(renderAclPlan(biggerLab));
    expect(
      (await bootstrap(api, roleTokenSecrets(biggerLab, secrets), MANAGEMENT, { synthesizedPlan: biggerPlan })).code,
    ).toBe(0);
    const removed = renderAclPlan(biggerLab).tokens.find((token) => token.role === "node-dev1007")!;
    expect(api.tokens.has(removed.accessorId)).toBe(true);
    api.tokens.set("someone-elses", {
      AccessorID: "someone-elses",
      SecretID: "x",
      Description: "ci deploy token",
      Policies: [],
    });
    // A token an earlier deploy made, described as they were before the lab's name was in the description.
    const older = roleAccessorId(lab, "node-dev1009");
    api.tokens.set(older, {
      AccessorID: older,
      SecretID: "y",
      Description: "consul-lab node-dev1009: Consul agent on dev1009: its node and the services it registers",
      Policies: [{ Name: "node-dev1009" }],
    });
    // An operator's own token, described like the lab's older ones: its accessor ID is not the lab's.
    api.tokens.set("operators-own", {
      AccessorID: "operators-own",
      SecretID: "z",
      Description: "consul-lab ops: my token for the lab",
      Policies: [],
    });
    const run = await bootstrap(api, roleTokens);
    expect(run.code).toBe(0);
    expect(api.tokens.has(removed.accessorId)).toBe(false);
    expect(run.stdout).toContain(
      `token ${removed.accessorId} (${removed.description}): deleted, no longer in the plan`,
    );
    expect(api.tokens.has("someone-elses")).toBe(true);
    expect(api.tokens.has(older)).toBe(false);
    expect(api.tokens.has("operators-own")).toBe(true);
    expect([...api.tokens.keys()].sort()).toEqual(
      [
        ...plan.tokens.map((token) => token.accessorId),
        ANONYMOUS_TOKEN_ACCESSOR,
        "someone-elses",
        "operators-own",
      ].sort(),
    );
  });

  it("changes nothing but the anonymous token on a second run", async () => {
    await bootstrap(api, roleTokens);
    api.writes = [];
    const run = await bootstrap(api, roleTokens);
    expect(run.code).toBe(0);
    expect(api.writes).toEqual([`PUT /v1/acl/token/${ANONYMOUS_TOKEN_ACCESSOR}`]);
    expect(run.stdout).toContain("policy consul-template: unchanged");
  });

  it("replaces a token whose secret was rotated", async () => {
    await bootstrap(api, roleTokens);
    const rotated = roleTokenSecrets(lab, generateSecrets());
    const run = await bootstrap(api, rotated);
    expect(run.code).toBe(0);
    const watch = plan.tokens.find((token) => token.role === "maintenance-watch")!;
    expect(api.tokens.get(watch.accessorId)!.SecretID).toBe(rotated["maintenance-watch"]);
    expect(run.stdout).toContain(`token maintenance-watch (${watch.accessorId}): rotated`);
  });

  it("waits out a cluster without a leader", async () => {
    api.leaderlessRequests = 3;
    const run = await bootstrap(api, roleTokens);
    expect(run.code).toBe(0);
    expect(api.tokens.size).toBe(plan.tokens.length + 1);
  });

  it("waits until the servers know the management token before reading anything", async () => {
    api.unknownManagementRequests = 2;
    const run = await bootstrap(api, roleTokens);
    expect(run.code).toBe(0);
    expect(api.policies.size).toBe(plan.policies.length);
  });

  it("fails clearly with a wrong management token, and writes nothing", async () => {
    const run = await bootstrap(api, roleTokens, "not-the-management-token");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("acl-bootstrap: the management token is not accepted: HTTP 403 ACL not found");
    expect(api.writes).toEqual([]);
  });

  it("refuses a plan file from another synth, and writes nothing", async () => {
    const other = jsonFileText({ ...plan, policies: plan.policies.slice(1) });
    const run = await bootstrap(api, roleTokens, MANAGEMENT, { planText: other });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /acl-bootstrap: acl-plan\.json is not the plan this configuration was synthesized with .*synthesize again/,
    );
    expect(api.writes).toEqual([]);
  });

  it("says how to create the variables file when it is missing", async () => {
    const run = await bootstrap(api, roleTokens, MANAGEMENT, { withoutVariables: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "acl-bootstrap: cannot read the stack's secret variables secrets.auto.tfvars.json (ENOENT); run `npm run secrets`",
    );
  });

  it("fails clearly when a role has no secret", async () => {
    const incomplete = Object.fromEntries(Object.entries(roleTokens).filter(([role]) => role !== "terraform"));
    const run = await bootstrap(api, incomplete);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('acl-bootstrap: no secret for role "terraform" in the role tokens');
  });
});
