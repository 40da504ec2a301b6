export * from "./secrets-file";
export * from "./role-tokens";
