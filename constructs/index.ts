export * from "./asset-image";
export * from "./consul-agent";
export * from "./consul-cluster";
export * from "./dns-forwarder";
export * from "./entry-point";
export * from "./lab-network";
export * from "./load-balancer";
export * from "./node-workload";
