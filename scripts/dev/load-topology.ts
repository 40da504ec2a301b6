/** Reads and validates CONSUL_LAB_TOPOLOGY, nothing else: what `npm run bench` times for large inputs. */
import { loadTopology } from "../../topology";

const topology = loadTopology();
console.log(`${Object.keys(topology.kv).length} KV keys`);
