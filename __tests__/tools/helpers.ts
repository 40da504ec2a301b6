import type { ClusterSecurity, SecretRefs } from "../../constructs/cluster-security";
import { join } from "node:path";
import { ARTICLE_TOPOLOGY, Lab, loadTopology, parseTopology, TopologyError, TopologyInput } from "../../topology";

/** A fresh, mutable copy of the article's topology. */
export function articleInput(): TopologyInput & { nodes: any[]; services: any[] } {
  return structuredClone(ARTICLE_TOPOLOGY) as any;
}

export function labOf(input: unknown = ARTICLE_TOPOLOGY): Lab {
  return new Lab(parseTopology(input));
}

/** One of the topologies under examples/, loaded as the CLI loads a file. */
export function exampleLab(file: "shop-lab.yaml" | "three-hosts.yaml"): Lab {
  return new Lab(loadTopology({ CONSUL_LAB_TOPOLOGY: join(__dirname, "..", "..", "examples", file) }));
}

/** The problems validation reports for the input, as `path: message` lines. */
export function problemsOf(input: unknown): string[] {
  try {
    parseTopology(input);
  } catch (error) {
    if (error instanceof TopologyError) return error.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw error;
  }
  return [];
}

/** The article's topology with `count` extra app servers, for tests that need a larger lab. */
export function articleWithExtraApps(count: number): TopologyInput {
  const input = articleInput();
  const extra = Array.from({ length: count }, (_, index) => `dev${1007 + index}`);
  extra.forEach((name, index) => input.nodes.push({ name, address: `10.0.1.${7 + index}`, role: "client" }));
  input.services[2].nodes.push(...extra);
  return input;
}

/** Stand-ins for the Terraform variable references a stack passes to the agent config renderer. */
export const TEST_AGENT_SECRETS = {
  gossipKey: "GOSSIP-KEY",
  managementToken: "MANAGEMENT-TOKEN",
  nodeToken: "NODE-TOKEN",
  maintenanceWatchToken: "WATCH-TOKEN",
  dnsToken: "DNS-TOKEN",
} as const;

/** Stand-ins for the secret references a stack passes to constructs (see declareSecretVariables). */
export const TEST_SECRET_REFS: SecretRefs = {
  gossipKey: "GOSSIP-KEY",
  managementToken: "MANAGEMENT-TOKEN",
  roleTokensJson: "ROLE-TOKENS-JSON",
  roleToken: (role: string) => `TOKEN-FOR-${role}`,
  tls: {
    caCert: "CA-CERT",
    caFile: "CA-FILE",
    serverCert: (node: string) => `CERT-OF-${node}`,
    serverKey: (node: string) => `KEY-OF-${node}`,
  },
  variablesFile: { path: "SECRETS-FILE", managementToken: "MANAGEMENT-TOKEN-NAME", roleTokens: "ROLE-TOKENS-NAME" },
};

/** A "secure" cluster's security, with the stand-in references. */
export const TEST_SECURITY: ClusterSecurity = { mode: "secure", secrets: TEST_SECRET_REFS };

/** The variables each secure stack declares (and its variables file must hold), sorted. */
export const CLUSTER_STACK_VARIABLES = [
  "gossip_key",
  "management_token",
  "role_tokens",
  "tls_ca_cert",
  "tls_server_certs",
  "tls_server_keys",
];
export const CONSUL_STACK_VARIABLES = ["role_tokens", "tls_ca_cert"];
