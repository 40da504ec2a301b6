export * from "./consul-agent-config";
export * from "./consul-template-config";
export * from "./consul-ui-vhost";
export * from "./dnsmasq-config";
export * from "./entry-point";
export * from "./site-upstream-template";
export * from "./workload-site";
