/**
 * `npm run secrets`: creates the lab's secrets file once (an existing file is checked, never replaced), and for a
 * "secure" topology the TLS material its servers need (secrets/lab-tls.ts).
 */
import { DEFAULT_SECRETS_FILE, ensureLabTls, ensureSecrets, SecretsError, SECRETS_FILE_ENV, TLS_DIR } from "../secrets";
import { loadLab, TopologyError } from "../topology";
import { commandLineOrExit } from "./usage";

function createSecrets(): void {
  const file = process.env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE;
  const { created } = ensureSecrets(file);
  console.log(
    created
      ? `created ${file} (mode 600): the gossip key, the management token, the role token seed`
      : `${file} exists and is valid; kept as it is`,
  );
  const lab = loadLab(process.env);
  if (lab.secure) ensureLabTls(lab, TLS_DIR, { say: (line) => console.log(line) });
}

try {
  if (commandLineOrExit("secrets", process.argv.slice(2)) !== undefined) createSecrets();
} catch (error) {
  if (!(error instanceof SecretsError) && !(error instanceof TopologyError)) throw error;
  console.error(`consul-lab: ${error.message}`);
  process.exitCode = 1;
}
