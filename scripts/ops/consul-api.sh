# Sourced by the ops scripts: the lab's own agent address, and `consul_api` (curl with the lab's management token).
# The address is the topology's published API (publish.address:publish.httpPort, from `npm run topology`; HTTPS with
# the lab's CA in "secure" labs), or CONSUL_LAB_HTTP_ADDR (https:// unless it says http://); the token is the lab's secrets file's management token, or CONSUL_LAB_HTTP_TOKEN. Consul's own
# CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN are ignored on purpose: a shell set up for a real cluster would otherwise
# send the lab's management token to that cluster, or restore the lab's snapshot over it. The token reaches curl
# through stdin, so it never shows in `ps`.
# shellcheck shell=bash

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${CONSUL_LAB_HTTP_ADDR:-}" ]; then
  address=$CONSUL_LAB_HTTP_ADDR
  case "$address" in http://* | https://*) ;; *) address="https://$address" ;; esac
else
  # "secure" labs serve the API over HTTPS (0.0.0.0 is dialled on loopback); "none" labs over plain HTTP.
  if ! address=$(node "$project_root/scripts/run-ts.mjs" "$project_root/cli/print-topology.ts" |
    node -e 'const t = JSON.parse(require("fs").readFileSync(0, "utf8")); const host = t.publish.address === "0.0.0.0" ? "127.0.0.1" : t.publish.address; process.stdout.write((t.security === "secure" ? "https://" : "http://") + host + ":" + t.publish.httpPort)'); then
    echo "the lab's topology could not be read (see above); set CONSUL_LAB_HTTP_ADDR=host:port to name the agent" >&2
    exit 1
  fi
fi
# HTTPS trusts the lab's own CA (made by the first deploy; CONSUL_LAB_CA_FILE names another), and nothing else.
tls_options=()
case "$address" in
  https://*)
    ca_file=${CONSUL_LAB_CA_FILE:-$project_root/.secrets/tls/ca.pem}
    if [ ! -r "$ca_file" ]; then
      echo "no lab CA at $ca_file: deploy the lab from this checkout first (npm run deploy)" >&2
      exit 1
    fi
    tls_options=(--cacert "$ca_file")
    ;;
esac
secrets_file=${CONSUL_LAB_SECRETS_FILE:-$project_root/.secrets/consul-lab.json}
token=${CONSUL_LAB_HTTP_TOKEN:-}
if [ -z "$token" ] && [ -r "$secrets_file" ]; then
  token=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).managementToken ?? "")' "$secrets_file")
fi

consul_api() {
  # Never through a proxy the shell names: the token and the snapshot go to the lab's agent only.
  printf 'X-Consul-Token: %s\n' "$token" | curl -sS -f --noproxy '*' "${tls_options[@]}" -H @- "$@"
}
