#!/bin/sh
# Consul watch handler: sets the site's maintenance flag in the KV store from the service's health.
#
#   maintenance-flag.sh CONSUL_HTTP_URL KEY APP_TAG SORRY_TAG INSTANCES_KEY  < health entries (JSON)
#
# Consul runs it for a `service` watch and passes on stdin what /v1/health/service/<name> returns: one entry per
# instance, with .Service.Tags and .Checks[].Status. The flag is "off" while at least one app server passes all its
# checks, and "on" otherwise. An app server is an instance tagged APP_TAG and not SORRY_TAG that the site's instance
# list (INSTANCES_KEY, written by the consul stack; renderers/site-instances.ts) names as "app|NODE|ADDRESS|PORT",
# the load balancers' template's own rule: an instance another token registered counts for neither. The address is
# the service's, or the node's when the service has none, as consul-template takes it. No list yet means no app
# server, as in the template. The handler writes only when the value changes, so the watch firing at agent start or
# on reload with nothing new is a no-op. With ACLs on, the token in the file MAINTENANCE_FLAG_TOKEN_FILE names (from
# the agent's environment, which holds only the path) authorizes the reads and the write; its policy allows writing
# this key only. Consul logs a handler's output at DEBUG only, so every change and error is also appended to
# MAINTENANCE_FLAG_LOG when it is set (its last 200 lines are kept).
set -eu

if [ "$#" -ne 5 ]; then
  echo "usage: maintenance-flag.sh CONSUL_HTTP_URL KEY APP_TAG SORRY_TAG INSTANCES_KEY < health entries" >&2
  exit 2
fi
consul_url=$1
key=$2
app_tag=$3
sorry_tag=$4
instances_key=$5

log() {
  echo "maintenance-flag: $*" >&2
}

# What an operator must see at the default log level: a line with a UTC time in MAINTENANCE_FLAG_LOG.
record() {
  log "$@"
  logfile=${MAINTENANCE_FLAG_LOG:-}
  [ -n "$logfile" ] || return 0
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$logfile" 2>/dev/null || return 0
  if [ "$(wc -l <"$logfile")" -gt 400 ]; then
    tail -n 200 "$logfile" >"$logfile.tmp" && mv "$logfile.tmp" "$logfile"
  fi
}

# The token travels in a header read from a file descriptor, so it never shows in `ps`.
token=""
if [ -n "${MAINTENANCE_FLAG_TOKEN_FILE:-}" ]; then
  if ! token=$(cat "$MAINTENANCE_FLAG_TOKEN_FILE"); then
    record "ERROR: cannot read the token file $MAINTENANCE_FLAG_TOKEN_FILE; flag left unchanged"
    exit 1
  fi
fi
consul() {
  printf 'X-Consul-Token: %s\n' "$token" | curl -sS -H @- "$@"
}

entries=$(cat)
if [ -z "$entries" ]; then
  log "no data on stdin; nothing to do"
  exit 0
fi

body=$(mktemp)
trap 'rm -f "$body"' EXIT

# Reads a key into $value: 404 (no key yet) leaves it empty; any other failure stops before a write.
read_key() {
  status=$(consul -o "$body" -w '%{http_code}' "$consul_url/v1/kv/$1?raw") || {
    record "ERROR: cannot reach Consul at $consul_url; flag left unchanged"
    exit 1
  }
  case "$status" in
    200) value=$(cat "$body") ;;
    404) value="" ;;
    *)
      record "ERROR: reading $1 returned HTTP $status; flag left unchanged"
      exit 1
      ;;
  esac
}

read_key "$instances_key"
listed=${value:-"{}"}
if ! printf '%s' "$listed" | jq -e 'type == "object"' >/dev/null 2>&1; then
  record "ERROR: $instances_key is not the site's instance list; flag left unchanged"
  exit 1
fi

if ! passing=$(printf '%s' "$entries" | jq --arg app "$app_tag" --arg sorry "$sorry_tag" --argjson listed "$listed" '
  [ (. // [])[]
    | select(any(.Service.Tags[]?; . == $app) and (any(.Service.Tags[]?; . == $sorry) | not))
    | select($listed["app|\(.Node.Node)|\(if (.Service.Address // "") != "" then .Service.Address else .Node.Address end)|\(.Service.Port)"] == true)
    | select(all(.Checks[]?; .Status == "passing")) ]
  | length'); then
  record "ERROR: stdin is not a list of health entries; flag left unchanged"
  exit 1
fi

if [ "$passing" -gt 0 ]; then desired=off; else desired=on; fi

read_key "$key"
current=$value

if [ "$current" = "$desired" ]; then
  log "$key stays $desired ($passing passing app servers)"
  exit 0
fi

if ! result=$(consul -f -X PUT --data-binary "$desired" "$consul_url/v1/kv/$key"); then
  record "ERROR: writing $key failed; flag left at ${current:-<unset>}"
  exit 1
fi
if [ "$result" != "true" ]; then
  record "ERROR: Consul refused to write $key ($result)"
  exit 1
fi
record "set $key to $desired, was ${current:-<unset>} ($passing passing app servers)"
