#!/usr/bin/env bash
# npm run backup: saves a Consul snapshot (KV, catalog, sessions, ACLs: the whole Raft state) to
# backups/consul-<UTC timestamp>.snap, readable by its owner only: a snapshot holds every ACL token's secret. The
# agent is the lab's own (consul-api.sh; CONSUL_LAB_HTTP_ADDR names another), whose datacenter is the one saved.
set -euo pipefail
umask 077

usage="usage: npm run backup   (CONSUL_LAB_HTTP_ADDR=host:port to use another agent of the lab)
  a Consul snapshot of the whole Raft state, saved owner-only to backups/consul-<UTC timestamp>.snap"
if [ "$#" -eq 1 ] && { [ "$1" = --help ] || [ "$1" = -h ]; }; then
  echo "$usage"
  exit 0
fi
if [ "$#" -ne 0 ]; then
  echo "$usage" >&2
  exit 2
fi

# shellcheck source=scripts/ops/consul-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/consul-api.sh"
dir=${CONSUL_LAB_BACKUP_DIR:-backups}

mkdir -p "$dir"
chmod 700 "$dir"
echo "backup: taking a snapshot from $address"
file="$dir/consul-$(date -u +%Y%m%dT%H%M%SZ).snap"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT
if ! consul_api -o "$partial" "$address/v1/snapshot"; then
  echo "backup: could not take a snapshot from $address; nothing was written" >&2
  exit 1
fi
mv "$partial" "$file"
echo "backup: saved $file ($(wc -c <"$file") bytes)"
