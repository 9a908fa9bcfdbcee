#!/usr/bin/env bash
# Builds the bench's load-generator image without any container registry:
#   optivolt/loadgen:wrk   Debian bookworm (debootstrap minbase) + Debian's wrk package
# The bench runs it with `--network container:<variant>` so the load reaches the variant on
# 127.0.0.1 inside its own network namespace (no docker-proxy, no NAT), pinned with --cpuset-cpus.
#
# Usage: bash images/base/build-loadgen.sh [--force]   (also run by `npm run images:base`)
# Env:   OPTIVOLT_LOADGEN_IMAGE (default optivolt/loadgen:wrk), DEBIAN_MIRROR (default: the mirror apt uses)
# Needs root (debootstrap), debootstrap and a Docker engine.
set -euo pipefail

TAG="${OPTIVOLT_LOADGEN_IMAGE:-optivolt/loadgen:wrk}"
force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "images:loadgen: unknown argument '$arg' (only --force is accepted)" >&2; exit 2 ;;
  esac
done

die() { echo "images:loadgen: $*" >&2; exit 1; }
log() { echo "images:loadgen: $*"; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; start dockerd (see .ci/run) and retry."
if ! $force && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already exists (use --force to rebuild)."
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; run it as root (e.g. sudo npm run images:base)."
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; install it with: apt-get install debootstrap"

# The Debian mirror apt already uses (deb822 .sources or one-line .list), as build-base.sh does.
detect_mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  cat "${files[@]}" 2>/dev/null | grep -oE '(https?://[^ ]+/debian)/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ' | sed 's#/$##' || true
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

work=$(mktemp -d /tmp/optivolt-loadgen.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

log "debootstrap bookworm (minbase + wrk) from $DEBIAN_MIRROR"
debootstrap --variant=minbase --include=wrk bookworm "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above); set DEBIAN_MIRROR to a reachable Debian mirror."; }
wrk_version=$(chroot "$rootfs" dpkg-query -W -f '${Version}' wrk)

rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/locale/*

log "importing $TAG (wrk $wrk_version)"
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL org.opencontainers.image.description=\"Debian bookworm minbase + wrk $wrk_version (optivolt bench load generator)\"" \
  --change "LABEL org.optivolt.wrk-version=\"$wrk_version\"" \
  --change 'ENTRYPOINT ["wrk"]' \
  - "$TAG" >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "^$TAG "
