export * from "./cluster-stack";
export * from "./lab-stack";
export * from "./state-backend";
export * from "./consul-stack";
export * from "./synthesis-shortcuts";
export * from "./secret-variables";
export * from "./lab-app";
