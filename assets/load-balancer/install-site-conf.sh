#!/bin/sh
# Installs a site config rendered by consul-template, but only if nginx accepts it. consul-template then sends the
# nginx it supervises SIGHUP (exec mode's reload_signal), so nginx only ever reloads a config `nginx -t` passed.
#
#   install-site-conf RENDERED LIVE
#
# A rejected render leaves the last good config in place and is logged as an ERROR; the script still exits 0,
# because consul-template exits when a template command fails and would take nginx down with it.
# NGINX_CONF points it at another nginx configuration (the tests use one on loopback).
set -u

rendered=${1:?usage: install-site-conf RENDERED LIVE}
live=${2:?usage: install-site-conf RENDERED LIVE}
nginx_conf=${NGINX_CONF:-/etc/nginx/nginx.conf}
last_good="$live.last-good"

log() {
  echo "install-site-conf: $*" >&2
}

if [ -f "$live" ] && cmp -s "$rendered" "$live"; then
  log "unchanged: $live"
  exit 0
fi

if [ -f "$live" ]; then
  cp "$live" "$last_good"
fi
cp "$rendered" "$live.new" && mv "$live.new" "$live"

if ! test_output=$(nginx -t -c "$nginx_conf" 2>&1); then
  log "ERROR: nginx rejected the new config, keeping the last good one:"
  printf '%s\n' "$test_output" >&2
  if [ -f "$last_good" ]; then
    mv "$last_good" "$live"
  else
    rm -f "$live"
  fi
  exit 0
fi
rm -f "$last_good"
log "installed: $live"
