#!/bin/sh
# Entry point of a swarm lab node: make /sys and the cgroup v1 hierarchies writable, then run dockerd.
# The node runs without --privileged (which fails on this kernel: see docs/swarm.md), so Docker hands
# it /sys and its own cgroups read-only; with the capabilities it has, it can remount them.
# Arguments are passed on to dockerd (the lab script adds --insecure-registry for the lab network).
set -eu

mount -o remount,rw /sys

# Task cgroups go under this node container's own cgroup (--cgroup-parent), so on the host each task
# sits at /sys/fs/cgroup/<controller>/docker/<node id>/<task id> and dies with its node.
own_cgroup=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
  for dir in /sys/fs/cgroup/*; do
    [ -d "$dir" ] || continue
    controller=$(basename "$dir")
    case "$controller" in
      systemd) options=none,name=systemd ;;
      unified) continue ;;
      *) options=$controller ;;
    esac
    # The bind Docker gave us is read-only and cannot be remounted; mount the hierarchy afresh
    # (with the host's cgroup namespace this is the whole hierarchy, hence the explicit parent).
    umount "$dir" 2>/dev/null || true
    mount -t cgroup -o "$options" cgroup "$dir"
  done
  set -- --cgroup-parent="$own_cgroup" "$@"
fi

# The engine listens on its unix socket only: no TCP port a task or a local user could reach. (The lab
# script adds the manager's second socket, in a host folder, with --host and --group.)
exec dockerd -H unix:///var/run/docker.sock "$@"
