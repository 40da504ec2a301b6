export * from "./consul-agent-config";
export * from "./workload-site";
