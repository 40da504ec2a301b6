import { DEFAULT_SECRETS_FILE, ensureLabTls, ensureSecrets, SECRETS_FILE_ENV, TLS_DIR } from "../../secrets";
import type { RunContext } from "../context";

/**
 * `npm run secrets`: creates the lab's secrets file once (an existing file is checked, never replaced), and for a
 * "secure" topology the TLS material its servers need (secrets/lab-tls.ts).
 */
export async function secretsCommand({ lab, env }: RunContext): Promise<number> {
  const file = env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE;
  const { created } = ensureSecrets(file);
  console.log(
    created
      ? `created ${file} (mode 600): the gossip key, the management token, the role token seed`
      : `${file} exists and is valid; kept as it is`,
  );
  if (lab.secure) ensureLabTls(lab, TLS_DIR, { say: (line) => console.log(line) });
  return 0;
}
