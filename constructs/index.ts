export * from "./consul-agent";
export * from "./consul-cluster";
export * from "./lab-network";
export * from "./node-workload";
