// Makes the Consul API calls of the twin's apply of the consul stack (twin-apply.ts), one after another, as the
// Consul provider makes them through its Go client: over HTTPS with the lab CA and the provider's token. Runs as its
// own process so that a test can run it inside a host's network namespace. A call that does not answer 200 stops it.
//
//   node twin-consul-calls.mjs CALLS.json    {"address", "scheme", "caFile", "token", "calls": [{method, path, body}]}
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { request as plainRequest } from "node:http";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const [host, port] = plan.address.split(":");
const ca = plan.caFile ? readFileSync(plan.caFile, "utf8") : undefined;

function call({ method, path, body }) {
  return new Promise((resolve, reject) => {
    const send = plan.scheme === "https" ? request : plainRequest;
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = send(
      {
        host,
        port: Number(port),
        path,
        method,
        ca,
        rejectUnauthorized: true,
        headers: {
          "X-Consul-Token": plan.token,
          ...(text === undefined ? {} : { "Content-Length": Buffer.byteLength(text) }),
        },
        timeout: 10_000,
      },
      (response) => {
        let answer = "";
        response.on("data", (chunk) => (answer += chunk));
        response.on("end", () => resolve({ status: response.statusCode, text: answer }));
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

for (const step of plan.calls) {
  const { status, text } = await call(step);
  if (status !== 200) {
    console.error(`${step.method} ${step.path}: HTTP ${status} ${text.trim()}`);
    process.exit(1);
  }
  console.log(`${step.method} ${step.path}: ${text.trim().slice(0, 200)}`);
}
