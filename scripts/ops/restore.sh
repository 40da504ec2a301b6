#!/usr/bin/env bash
# npm run restore FILE: restores a snapshot taken by `npm run backup` into the running cluster. It replaces the
# cluster's whole state (KV, catalog, ACLs). CONSUL_HTTP_ADDR picks the agent (default 127.0.0.1:8500).
set -euo pipefail

usage="usage: npm run restore FILE   (a snapshot from npm run backup, e.g. backups/consul-20261126T010000Z.snap)"
if [ "$#" -ne 1 ]; then
  echo "$usage" >&2
  exit 2
fi
file=$1
# shellcheck source=scripts/ops/consul-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/consul-api.sh"

fail() {
  echo "restore: $1; the cluster was not changed" >&2
  exit 1
}

[ -e "$file" ] || fail "no such file: $file"
[ -f "$file" ] || fail "not a regular file: $file"
[ -r "$file" ] || fail "cannot read $file (check its permissions)"
[ -s "$file" ] || fail "$file is empty"
# A Consul snapshot is a gzip-compressed archive; refuse anything else before talking to Consul.
gzip -t "$file" 2>/dev/null || fail "$file is not a Consul snapshot (not gzip data)"

if ! consul_api -X PUT --data-binary "@$file" "$address/v1/snapshot" >/dev/null; then
  echo "restore: Consul at $address refused the snapshot" >&2
  exit 1
fi
echo "restore: restored $file into the cluster at $address"
