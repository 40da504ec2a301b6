/** `npm run secrets`: creates the lab's secrets file once; an existing file is checked, never replaced. */
import { DEFAULT_SECRETS_FILE, ensureSecrets, SecretsError, SECRETS_FILE_ENV } from "../secrets";

const file = process.env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE;
try {
  const { created } = ensureSecrets(file);
  console.log(
    created
      ? `created ${file} (mode 600): the gossip key, the management token, the role token seed`
      : `${file} exists and is valid; kept as it is`,
  );
} catch (error) {
  if (!(error instanceof SecretsError)) throw error;
  console.error(`consul-lab: ${error.message}`);
  process.exitCode = 1;
}
