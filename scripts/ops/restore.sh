#!/usr/bin/env bash
# npm run restore FILE [--yes]: restores a snapshot taken by `npm run backup` into the lab's running cluster. It
# replaces the cluster's whole state (KV, catalog, ACLs), so it names the target and asks first, unless --yes. The
# agent is the lab's own (consul-api.sh; CONSUL_LAB_HTTP_ADDR names another).
set -euo pipefail

usage="usage: npm run restore FILE [--yes]   (a snapshot from npm run backup, e.g. backups/consul-20261126T010000Z.snap)"
yes=false
file=
for arg in "$@"; do
  if [ "$arg" = --help ] || [ "$arg" = -h ]; then
    echo "$usage"
    echo "  replaces the cluster's whole state (KV, catalog, ACLs) after naming it and asking; --yes does not ask"
    exit 0
  elif [ "$arg" = --yes ]; then
    yes=true
  elif [ -z "$file" ] && [ "${arg#-}" = "$arg" ]; then
    file=$arg
  else
    echo "$usage" >&2
    exit 2
  fi
done
if [ -z "$file" ]; then
  echo "$usage" >&2
  exit 2
fi
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

echo "restore: this replaces the whole state (KV, catalog, ACLs) of the Consul cluster at $address with $file"
if [ "$yes" != true ]; then
  [ -t 0 ] || fail "restore asks before it replaces anything; run it in a terminal, or pass --yes"
  read -r -p 'Only "yes" goes on: ' answer
  [ "$answer" = yes ] || fail "restore cancelled"
fi

if ! consul_api -X PUT --data-binary "@$file" "$address/v1/snapshot" >/dev/null; then
  echo "restore: Consul at $address refused the snapshot" >&2
  exit 1
fi
echo "restore: restored $file into the cluster at $address"
