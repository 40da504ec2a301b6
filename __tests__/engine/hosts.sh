#!/usr/bin/env bash
# Several Docker hosts on this one machine, for the engine tests of a lab over several hosts: each host a network
# namespace with its own address on a private bridge, and a dockerd of its own inside it (its own socket, data and
# exec roots, vfs), all under DIR. The recipe is ../../../shared/design/multi-host-on-one-machine.md's.
#
#   hosts.sh start DIR N   start N hosts (h1..hN at 192.168.<net>.1..N), each answering on DIR/hK/docker.sock
#   hosts.sh restart DIR K stop host hK's dockerd and start it again in its namespace, as a host's reboot does to it
#   hosts.sh remove DIR    stop every engine, delete the namespaces, the bridge and the forwarding rule, remove DIR
#
# Names carry a suffix of DIR's own, so two runs never share a bridge or a namespace.
set -euo pipefail

action=${1:?usage: hosts.sh start DIR N | restart DIR K | remove DIR}
dir=${2:?usage: hosts.sh start DIR N | restart DIR K | remove DIR}
tag=$(basename "$dir" | tr -dc 'a-z0-9' | tail -c 6)
bridge="clh-$tag"
net=$((100 + $(printf '%d' "0x$(printf '%s' "$tag" | md5sum | cut -c1-2)") % 100))

answers() { DOCKER_HOST="unix://$1/docker.sock" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Starts host hK's dockerd inside its namespace.
launch() {
  local i=$1 host="$dir/h$1" ns="clh-$tag-h$1"
  # nsenter, not `ip netns exec`, which remounts /sys, after which dockerd fails ("Devices cgroup isn't mounted").
  setsid nsenter "--net=/var/run/netns/$ns" dockerd \
    --host "unix://$host/docker.sock" \
    --data-root "$host/data" \
    --exec-root "$host/exec" \
    --pidfile "$host/dockerd.pid" \
    --storage-driver vfs \
    --bridge none \
    --containerd-namespace "clh-$tag-h$i" \
    --containerd-plugins-namespace "clh-$tag-h$i-plugins" \
    </dev/null >>"$host/dockerd.log" 2>&1 &
}

# Waits until host hK's dockerd answers, at most 30 s.
await_host() {
  local i=$1
  for _ in $(seq 1 60); do
    answers "$dir/h$i" && return 0
    sleep 0.5
  done
  echo "host h$i's dockerd did not answer within 30 s; its last words:" >&2
  tail -n 5 "$dir/h$i/dockerd.log" >&2
  return 1
}

# Stops one dockerd by its pid file: TERM, then KILL after 30 s.
stop_engine() {
  local host=$1 pid
  [ -f "$host/dockerd.pid" ] || return 0
  pid=$(cat "$host/dockerd.pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

restart() {
  local i=$1
  stop_engine "$dir/h$i"
  launch "$i"
  await_host "$i"
}

start() {
  local count=$1
  mkdir -p "$dir"
  echo "$net" >"$dir/net"
  ip link add "$bridge" type bridge
  ip addr add "192.168.$net.254/24" dev "$bridge"
  ip link set "$bridge" up
  # An engine on this machine may have set FORWARD to DROP; the hosts must reach each other across the bridge.
  iptables -I FORWARD -i "$bridge" -o "$bridge" -j ACCEPT
  for i in $(seq 1 "$count"); do
    local host="$dir/h$i" ns="clh-$tag-h$i"
    mkdir -p "$host"
    ip netns add "$ns"
    ip link add "vh$i-$tag" type veth peer name eth0 netns "$ns"
    ip link set "vh$i-$tag" master "$bridge"
    ip link set "vh$i-$tag" up
    ip netns exec "$ns" ip addr add "192.168.$net.$i/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    # A default route, as a real host has: the engine takes its address from it (`docker swarm join` without
    # --advertise-addr). Nothing is forwarded beyond the bridge.
    ip netns exec "$ns" ip route add default via "192.168.$net.254"
    launch "$i"
  done
  for i in $(seq 1 "$count"); do
    await_host "$i"
  done
}

remove() {
  for host in "$dir"/h*; do
    stop_engine "$host"
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^clh-$tag-h" || true); do ip netns delete "$ns"; done
  iptables -D FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null || true
  ip link delete "$bridge" 2>/dev/null || true
  awk -v root="$dir/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case "$action" in
  start) start "${3:?usage: hosts.sh start DIR N}" ;;
  restart) restart "${3:?usage: hosts.sh restart DIR K}" ;;
  remove) remove ;;
  *) echo "usage: hosts.sh start DIR N | restart DIR K | remove DIR" >&2 && exit 2 ;;
esac
