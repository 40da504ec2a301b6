export * from "./secrets-file";
export * from "./role-tokens";
export * from "./variable-names";
export * from "./stack-variables";
export * from "./lab-tls";
