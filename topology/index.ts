export * from "./schema";
export * from "./model";
export * from "./listeners";
export { ARTICLE_TOPOLOGY } from "./default";
export { loadLab, loadTopology, parseTopology, readTopologyFile, TopologyError, TOPOLOGY_ENV } from "./load";
export type { TopologyProblem } from "./validate";
