#!/usr/bin/env bash
# `npm run test:engine` (and `npm run test:twin`): the tests that need a real Docker engine, against a private one started for the run
# (dockerd.sh) and removed at its end, also on failure and on Ctrl-C. Images come from this machine's Debian
# packages, never from a registry. Arguments go to Jest (`npm run test:engine -- -t repair`).
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "test:engine: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root to start its own dockerd (run it as root, as CI does)"; exit 1; }
command -v dockerd >/dev/null || { say "no dockerd on the PATH (Debian: apt-get install docker.io)"; exit 1; }
command -v docker >/dev/null || { say "no docker CLI on the PATH (Debian: apt-get install docker.io)"; exit 1; }
# A static BusyBox runs in an image with nothing else in it (Debian's busybox-static; ldd has no libraries to name).
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  say "no static busybox for the test image (Debian: apt-get install busybox-static)"
  exit 1
fi

engine_dir=$(mktemp -d /tmp/consul-lab-engine.XXXXXX)
# The hosts a multi-host test started (hosts.sh) go first: their engines run in namespaces of their own.
cleanup() {
  for hosts in "$engine_dir"/hosts-*; do [ -d "$hosts" ] && bash __tests__/engine/hosts.sh remove "$hosts"; done
  bash __tests__/engine/dockerd.sh remove "$engine_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash __tests__/engine/dockerd.sh start "$engine_dir" || { say "the private engine did not start; see above"; exit 1; }
# Everything the tests write (topology files, synth output, reserved ports) goes with the engine at the end.
mkdir -p "$engine_dir/tmp"
export DOCKER_HOST="unix://$engine_dir/docker.sock" CONSUL_LAB_ENGINE_DIR="$engine_dir"
export TMPDIR="$engine_dir/tmp" CONSUL_LAB_TEST_RUN_DIR="$engine_dir/tmp"

# The one image every test runs: BusyBox, statically linked, from this machine's package. Its name says it is a test
# image, so nothing can take it for one of the lab's pinned images.
rootfs="$engine_dir/busybox-rootfs"
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
tar -C "$rootfs" -c . | docker import --change 'ENTRYPOINT ["/bin/sh"]' - consul-lab-test/busybox:engine >/dev/null

# `npm run test:twin` runs the twin lab's suites the same way (jest.twin.config.js).
npx jest --config "${CONSUL_LAB_ENGINE_JEST_CONFIG:-jest.engine.config.js}" "$@"
