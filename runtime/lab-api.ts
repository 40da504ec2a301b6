/**
 * How this machine reaches the lab's Consul API for `verify` and `npm run repair`: its published address, its CA in
 * "secure" labs, and the narrow `verify` role's token.
 */
import { existsSync, readFileSync } from "node:fs";
import { labCaFile, readSecrets, roleTokenSecret, SecretsError, secretsFile, TLS_DIR } from "../secrets";
import { VERIFY_ROLE } from "../shared/lab-contract";
import type { Lab } from "../topology";
import { ConsulApi } from "./consul-api";

/**
 * How this machine speaks to the lab's published API: the lab CA's certificate to trust in "secure" mode (the API
 * is HTTPS), undefined for the article's plain HTTP. Missing before the first deploy, which says so.
 */
export function labApiCa(lab: Lab): string | undefined {
  if (!lab.secure) return undefined;
  const file = labCaFile(TLS_DIR);
  if (!existsSync(file)) {
    throw new SecretsError(`no lab CA at ${file}: the lab has not been deployed from this checkout (npm run deploy)`);
  }
  return readFileSync(file, "utf8");
}

/** A client of the lab's published API, with its token and, in "secure" mode, its CA and server name. */
export function labApi(lab: Lab, env: NodeJS.ProcessEnv): ConsulApi {
  return new ConsulApi(lab.publishedHttpAddress, labOperatorToken(lab, env), {
    tls: lab.secure ? { ca: labApiCa(lab)!, serverName: lab.serverTlsName } : undefined,
  });
}

/**
 * The token the CLI and verify talk to the lab's Consul with: CONSUL_LAB_HTTP_TOKEN, or ("secure" labs) the `verify`
 * role's token, derived from the secrets file: it reads what verify checks and writes only the operator's
 * maintenance switch, so a verify or repair run holds no management token. Consul's own CONSUL_HTTP_TOKEN is ignored,
 * as the ops scripts do: a shell set up for a real cluster must not decide what is sent to the lab, nor the lab's
 * token go anywhere else.
 */
export function labOperatorToken(lab: Lab, env: NodeJS.ProcessEnv): string | undefined {
  if (env.CONSUL_LAB_HTTP_TOKEN) return env.CONSUL_LAB_HTTP_TOKEN;
  return lab.secure ? roleTokenSecret(readSecrets(secretsFile(env)), VERIFY_ROLE) : undefined;
}
