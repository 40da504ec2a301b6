# Sourced by the ops scripts: the lab's own agent address, and `consul_api` (curl with the lab's management token).
# The address is the topology's published API (`npm run topology -- --api`: HTTPS with the lab's CA in "secure" labs),
# or CONSUL_LAB_HTTP_ADDR (in the lab's scheme unless it names one); the token is the lab's secrets file's management
# token, or CONSUL_LAB_HTTP_TOKEN. Consul's own
# CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN are ignored on purpose: a shell set up for a real cluster would otherwise
# send the lab's management token to that cluster, or restore the lab's snapshot over it. The token reaches curl
# through stdin, so it never shows in `ps`.
# shellcheck shell=bash

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The lab's own API as the topology says (`npm run topology -- --api`: the URL, then the CA file or "-"), unless
# CONSUL_LAB_HTTP_ADDR names an agent with its scheme and everything that scheme needs (a CA for https).
address="" ca_file=""
case "${CONSUL_LAB_HTTP_ADDR:-}" in
  http://*) address=$CONSUL_LAB_HTTP_ADDR ca_file=- ;;
  https://*) [ -z "${CONSUL_LAB_CA_FILE:-}" ] || address=$CONSUL_LAB_HTTP_ADDR ca_file=$CONSUL_LAB_CA_FILE ;;
esac
if [ -z "$address" ]; then
  if ! target=$(node "$project_root/scripts/run-ts.mjs" "$project_root/cli/lab.ts" topology --api); then
    echo "the lab's topology could not be read (see above); set CONSUL_LAB_HTTP_ADDR=https://host:port and CONSUL_LAB_CA_FILE to name the agent" >&2
    exit 1
  fi
  address=$(printf '%s\n' "$target" | sed -n 1p)
  ca_file=$(printf '%s\n' "$target" | sed -n 2p)
  if [ -n "${CONSUL_LAB_HTTP_ADDR:-}" ]; then
    # Another agent of the lab: in the lab's own scheme unless it names one.
    case "$CONSUL_LAB_HTTP_ADDR" in
      http://* | https://*) address=$CONSUL_LAB_HTTP_ADDR ;;
      *) address="${address%%://*}://$CONSUL_LAB_HTTP_ADDR" ;;
    esac
  fi
fi
# HTTPS trusts the lab's own CA (made by the first deploy; CONSUL_LAB_CA_FILE names another), and nothing else.
curl_options=(--noproxy '*')
case "$address" in
  http://*) curl_options+=(--proto "=http") ;;
  https://*)
    # Only HTTPS, on every request and redirect: the token never leaves over another protocol.
    curl_options+=(--proto "=https" --proto-redir "=https")
    [ "$ca_file" != "-" ] || ca_file=""
    ca_file=${CONSUL_LAB_CA_FILE:-$ca_file}
    if [ -z "$ca_file" ] || [ ! -r "$ca_file" ]; then
      echo "no lab CA at ${ca_file:-(none)}: deploy the lab from this checkout first (npm run deploy)" >&2
      exit 1
    fi
    curl_options+=(--cacert "$ca_file")
    ;;
esac
secrets_file=${CONSUL_LAB_SECRETS_FILE:-$project_root/.secrets/consul-lab.json}
token=${CONSUL_LAB_HTTP_TOKEN:-}
if [ -z "$token" ] && [ -r "$secrets_file" ]; then
  token=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).managementToken ?? "")' "$secrets_file")
fi

consul_api() {
  # Never through a proxy the shell names (--noproxy, always in curl_options, which so is never empty: bash
  # 3.2's `set -u` refuses an empty array): the token and the snapshot go to the lab's agent only.
  # -q first: the user's ~/.curlrc is not read, so nothing there (`insecure`, a proxy) applies to the lab's token.
  printf 'X-Consul-Token: %s\n' "$token" | curl -q -sS -f "${curl_options[@]}" -H @- "$@"
}
