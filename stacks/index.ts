export * from "./cluster-stack";
export * from "./state-backend";
