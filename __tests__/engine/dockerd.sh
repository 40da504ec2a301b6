#!/usr/bin/env bash
# A private Docker engine for `npm run test:engine`, all of it under DIR: its own socket, data root, exec root and
# pid file, the vfs storage driver (works on any filesystem, even inside another container), no default bridge, no
# iptables rules and no IP forwarding turned on (the tests' containers talk only to each other on their own network,
# and published ports reach 127.0.0.1 through Docker's userland proxy), and containerd namespaces of its own in case
# the host runs a containerd of its own. It runs with daemon defaults that real hosts' daemon.json files
# commonly set, a log size cap and a default nofile ulimit, so the tests see what Docker merges into every container.
#
#   dockerd.sh start DIR     start it and wait until it answers (exit 1 with its last log lines if it does not)
#   dockerd.sh stop DIR      stop it (SIGTERM, then SIGKILL after 30 s)
#   dockerd.sh restart DIR   stop, then start: a daemon restart, as after a host reboot
#   dockerd.sh remove DIR    stop it and remove DIR with everything the engine left in it
set -euo pipefail

action=${1:?usage: dockerd.sh start|stop|restart|remove DIR}
dir=${2:?usage: dockerd.sh start|stop|restart|remove DIR}

# The values the read-back table (constructs/engine-read-back.ts) expects a daemon to merge in; the engine tests
# compare `docker inspect` against them.
readonly LOG_MAX_SIZE=7m
readonly ULIMIT_NOFILE=4096:8192

answers() { DOCKER_HOST="unix://$dir/docker.sock" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  mkdir -p "$dir"
  # setsid: the engine is not in the test run's process group, so a Ctrl-C reaches the tests, and the run's own
  # clean-up stops the engine in order.
  setsid dockerd \
    --host "unix://$dir/docker.sock" \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" \
    --storage-driver vfs \
    --bridge none \
    --iptables=false \
    --ip-forward=false \
    --containerd-namespace consul-lab-test \
    --containerd-plugins-namespace consul-lab-test-plugins \
    --log-opt "max-size=$LOG_MAX_SIZE" \
    --default-ulimit "nofile=$ULIMIT_NOFILE" \
    </dev/null >>"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    answers && return 0
    sleep 0.5
  done
  echo "the private dockerd did not answer within 30 s; its last words:" >&2
  tail -n 5 "$dir/dockerd.log" >&2
  return 1
}

stop() {
  [ -f "$dir/dockerd.pid" ] || return 0
  local pid
  pid=$(cat "$dir/dockerd.pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

remove() {
  # A bridge network's Linux bridge outlives a stopped dockerd: named by its options (docker_gwbridge, which a swarm
  # creates) or br-<first 12 of its ID>; each is deleted once the engine is gone.
  local bridges=()
  if answers; then
    local id
    while read -r id; do
      bridges+=("$(DOCKER_HOST="unix://$dir/docker.sock" docker network inspect "$id" \
        --format '{{with index .Options "com.docker.network.bridge.name"}}{{.}}{{else}}br-{{printf "%.12s" .Id}}{{end}}')")
    done < <(DOCKER_HOST="unix://$dir/docker.sock" docker network ls --quiet --no-trunc --filter driver=bridge)
  fi
  stop
  for bridge in "${bridges[@]}"; do
    ip link delete "$bridge" 2>/dev/null || true
  done
  # What the engine mounted under DIR (network namespaces, container shm) goes before the files do; deepest first.
  awk -v root="$dir/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  remove) remove ;;
  *) echo "usage: dockerd.sh start|stop|restart|remove DIR" >&2 && exit 2 ;;
esac
