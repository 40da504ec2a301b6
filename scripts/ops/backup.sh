#!/usr/bin/env bash
# npm run backup: saves a Consul snapshot (KV, catalog, sessions, ACLs: the whole Raft state) to
# backups/consul-<UTC timestamp>.snap. CONSUL_HTTP_ADDR picks the agent (default 127.0.0.1:8500), whose
# datacenter is the one saved.
set -euo pipefail

# shellcheck source=scripts/ops/consul-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/consul-api.sh"
dir=${CONSUL_LAB_BACKUP_DIR:-backups}

if [ "$#" -ne 0 ]; then
  echo "usage: npm run backup  (CONSUL_HTTP_ADDR=host:port to use another agent)" >&2
  exit 2
fi

mkdir -p "$dir"
file="$dir/consul-$(date -u +%Y%m%dT%H%M%SZ).snap"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT
if ! consul_api -o "$partial" "$address/v1/snapshot"; then
  echo "backup: could not take a snapshot from $address; nothing was written" >&2
  exit 1
fi
mv "$partial" "$file"
echo "backup: saved $file ($(wc -c <"$file") bytes)"
