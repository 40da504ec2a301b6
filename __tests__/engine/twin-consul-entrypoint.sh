#!/bin/sh
# The twin consul image's entrypoint: what the official image's docker-entrypoint.sh (hashicorp/consul,
# .release/docker/docker-entrypoint.sh) does for the lab's command `agent`: the data and config dirs as flags, their
# chown when another user owns them (a fresh named volume is root's), then the drop to the consul user with su-exec.
# Its other branches (CONSUL_BIND_INTERFACE, CONSUL_LOCAL_CONFIG, other subcommands, privileged ports) are not
# modelled: they stop the container.
set -e
CONSUL_DATA_DIR=/consul/data
CONSUL_CONFIG_DIR=/consul/config
for unmodelled in CONSUL_BIND_INTERFACE CONSUL_CLIENT_INTERFACE CONSUL_LOCAL_CONFIG CONSUL_ALLOW_PRIVILEGED_PORTS CONSUL_DISABLE_PERM_MGMT; do
  if eval "[ -n \"\${$unmodelled+x}\" ]"; then
    echo "twin entrypoint: $unmodelled is not modelled" >&2
    exit 1
  fi
done
if [ "$1" != agent ]; then
  echo "twin entrypoint: only the agent command is modelled, got: $*" >&2
  exit 1
fi
shift
set -- consul agent -data-dir="$CONSUL_DATA_DIR" -config-dir="$CONSUL_CONFIG_DIR" "$@"
CONSUL_UID=$(id -u consul)
CONSUL_GID=$(id -g consul)
if [ "$(stat -c %u "$CONSUL_DATA_DIR")" != "$CONSUL_UID" ]; then
  chown "$CONSUL_UID:$CONSUL_GID" "$CONSUL_DATA_DIR"
fi
if [ "$(stat -c %u "$CONSUL_CONFIG_DIR")" != "$CONSUL_UID" ]; then
  chown "$CONSUL_UID:$CONSUL_GID" "$CONSUL_CONFIG_DIR"
fi
exec su-exec "$CONSUL_UID:$CONSUL_GID" "$@"
