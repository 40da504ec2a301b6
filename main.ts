/** Reads the topology, builds the stacks, synthesizes (stacks/lab-app.ts). Nothing else lives here. */
import { synthesizeLab } from "./stacks/lab-app";

synthesizeLab();
