# The shared body of the fake CLIs in bin/: sends this call to the fake daemon (fake-daemon.mjs) and prints its
# answer. No other program starts here (only `$(umask)` forks bash itself), so a call costs little more than bash's
# own start. Outputs are passed as text: a NUL byte cannot cross (the daemon refuses to send one).
# shellcheck shell=bash

fake_call() {
  local program=$1
  shift
  if [[ -z ${FAKE_DAEMON_PORT:-} ]]; then
    echo "fake $program: FAKE_DAEMON_PORT is not set; the tests' globalSetup starts the fake daemon" >&2
    exit 127
  fi
  # Byte counts, not characters, for `read -N`.
  local LC_ALL=C
  exec 3<>"/dev/tcp/127.0.0.1/$FAKE_DAEMON_PORT" || exit 127
  # The Docker CLI's own variables too: they choose the engine (a fake engine per host, fake-docker.mjs).
  # And every variable Terraform or a provider reads that could point it elsewhere (shared/terraform-environment.ts).
  local names=("${!FAKE_@}" "${!TF_@}" "${!DOCKER_@}" "${!CONSUL_@}" "${!TFC_@}" "${!TERRAFORM_@}") name
  {
    printf '%s\0' "$program" "$PWD" "$(umask)" "$#" "$@" "${#names[@]}"
    for name in "${names[@]}"; do printf '%s=%s\0' "$name" "${!name}"; done
  } >&3
  local status out_bytes err_bytes interruptible out="" err=""
  read -r status out_bytes err_bytes interruptible <&3
  if ((out_bytes > 0)); then IFS= read -r -N "$out_bytes" out <&3; fi
  if ((err_bytes > 0)); then IFS= read -r -N "$err_bytes" err <&3; fi
  exec 3<&-
  # A long-running command is ready for a signal before it says it has started.
  if [[ $interruptible == 1 ]]; then fake_trap_signals "$program"; fi
  printf '%s' "$out"
  printf '%s' "$err" >&2
  if [[ $interruptible == 1 ]]; then fake_wait "$program" "$@"; fi
  exit "$status"
}

# On SIGINT or SIGTERM, a long-running command reports the signal to the daemon as `<signal> SIGxxx` and answers as
# the fake program does.
fake_trap_signals() {
  local program signal
  printf -v program '%q' "$1"
  for signal in INT TERM; do
    # The sleeper is `$!` (no other job runs in this shell), which bash sets as it starts it: a signal that comes in
    # between finds it set; one that comes before finds none to stop.
    # shellcheck disable=SC2064 # the program's name is fixed now; `$!` is read when the signal comes
    trap "[[ -n \${!:-} ]] && kill \"\$!\" 2>/dev/null; fake_call $program '<signal>' SIG$signal" "$signal"
  done
}

# Waits like a long-running command, until a signal or the end of the wait; then it asks again as if FAKE_SLOW were
# not set (which the log records as a second call).
fake_wait() {
  local program=$1
  shift
  sleep 20 &
  wait "$!"
  trap - INT TERM
  FAKE_SLOW="" fake_call "$program" "$@"
}
