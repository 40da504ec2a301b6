/**
 * One request through verify's HTTPS client, in a process of its own so the environment it starts with (say
 * NODE_TLS_REJECT_UNAUTHORIZED=0) is the one Node's TLS reads: `https-probe.ts URL CA_FILE SERVER_NAME`. Prints the
 * status, or `error: <message>`.
 */
import { readFileSync } from "node:fs";
import { httpExchange } from "../../runtime/http-exchange";

const [url, caFile, serverName] = process.argv.slice(2);
httpExchange(url, {
  headers: { "X-Consul-Token": "management" },
  tls: { ca: readFileSync(caFile, "utf8"), serverName },
}).then(
  (answer) => console.log(String(answer.status)),
  (error: Error) => console.log(`error: ${error.message}`),
);
