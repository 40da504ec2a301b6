/** `npm run <command>`: the lab's command line (cli/main.ts). */
import { runAsProgram } from "./main";
void runAsProgram(process.argv.slice(2));
