#!/bin/sh
# BusyBox's wget in the twin images, with `-T SECONDS` done by BusyBox's timeout. The real images carry Alpine's
# BusyBox (musl), whose `wget -T` bounds the wait; Debian's static BusyBox 1.35, which the twin images carry instead,
# dies of a segmentation fault on `wget -T` (exit 139, even against a closed port), so the option is taken here and
# the same bound kept. Every other option goes to BusyBox's wget unchanged.
seconds=
next=
for arg; do
  shift
  if [ "$next" = timeout ]; then
    seconds=$arg
    next=
    continue
  fi
  case "$arg" in
    -T) next=timeout ;;
    -T*) seconds=${arg#-T} ;;
    *) set -- "$@" "$arg" ;;
  esac
done
if [ -n "$seconds" ]; then
  exec /bin/busybox timeout "$seconds" /bin/busybox wget "$@"
fi
exec /bin/busybox wget "$@"
