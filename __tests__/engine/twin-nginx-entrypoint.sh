#!/bin/sh
# The twin nginx image's entrypoint. The official image's /docker-entrypoint.sh runs the scripts of
# /docker-entrypoint.d when its command is nginx: they template /etc/nginx/templates (the lab has none), make the
# image's own default.conf listen on IPv6 (the lab replaces that file) and tune worker_processes only when
# NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE is set (the lab does not). None changes the lab's files, so this one only
# refuses what it does not model, and runs the command.
set -e
for unmodelled in NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE NGINX_ENVSUBST_TEMPLATE_DIR; do
  if eval "[ -n \"\${$unmodelled+x}\" ]"; then
    echo "twin nginx entrypoint: $unmodelled is not modelled" >&2
    exit 1
  fi
done
if [ -d /etc/nginx/templates ]; then
  echo "twin nginx entrypoint: /etc/nginx/templates is not modelled" >&2
  exit 1
fi
exec "$@"
