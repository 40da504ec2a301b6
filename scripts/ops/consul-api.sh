# Sourced by the ops scripts: the agent's address, and `consul_api` (curl with the management token).
# CONSUL_HTTP_ADDR picks the agent (default 127.0.0.1:8500). Snapshots need the management token, since ACLs are on
# unless security is "none": CONSUL_HTTP_TOKEN, or the lab's secrets file. It reaches curl through stdin, so it
# never shows in `ps`.
# shellcheck shell=bash

address=${CONSUL_HTTP_ADDR:-127.0.0.1:8500}
case "$address" in http://* | https://*) ;; *) address="http://$address" ;; esac
secrets_file=${CONSUL_LAB_SECRETS_FILE:-.secrets/consul-lab.json}
token=${CONSUL_HTTP_TOKEN:-}
if [ -z "$token" ] && [ -r "$secrets_file" ]; then
  token=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).managementToken ?? "")' "$secrets_file")
fi

consul_api() {
  printf 'X-Consul-Token: %s\n' "$token" | curl -sS -f -H @- "$@"
}
