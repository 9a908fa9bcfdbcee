#!/usr/bin/env bash
# Builds the unikernel's initrd (see Dockerfile here) and copies it out of Docker:
#
#   build-initrd.sh --out FILE --app-tag TAG --payload-tag TAG --debian-image IMAGE [--node-image IMAGE] [--network host]
#
# --app-tag names the web API's `app` target built on the way (from images/, with --node-image as
# its NODE_IMAGE build argument, default --debian-image); --payload-tag the image holding the cpio.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "unikernel initrd: $*" >&2; exit 1; }
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

out="" app_tag="" payload_tag="" debian_image="" node_image="" network=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "unikernel initrd: $1 needs a value" >&2; usage; }
  case "$1" in
    --out) out=$2 ;;
    --app-tag) app_tag=$2 ;;
    --payload-tag) payload_tag=$2 ;;
    --debian-image) debian_image=$2 ;;
    --node-image) node_image=$2 ;;
    --network) network=(--network "$2") ;;
    *) echo "unikernel initrd: unknown argument '$1'" >&2; usage ;;
  esac
  shift 2
done
for pair in "--out:$out" "--app-tag:$app_tag" "--payload-tag:$payload_tag" "--debian-image:$debian_image"; do
  [ -n "${pair#*:}" ] || { echo "unikernel initrd: ${pair%%:*} is required" >&2; usage; }
done
node_image=${node_image:-$debian_image}
command -v docker >/dev/null 2>&1 || die "docker is missing; install Docker (Debian: apt-get install docker.io) and retry."
docker info >/dev/null 2>&1 || die "no Docker engine answers; start it (dockerd) and retry."

started=$(date +%s%N)
docker build --quiet --force-rm "${network[@]}" --target app --build-arg "NODE_IMAGE=$node_image" --tag "$app_tag" "$here/../../images" >/dev/null ||
  die "building the web API's app target failed (output above)."
docker build --quiet --force-rm "${network[@]}" --build-arg "APP_IMAGE=$app_tag" --build-arg "DEBIAN_IMAGE=$debian_image" --tag "$payload_tag" - <"$here/Dockerfile" >/dev/null ||
  die "building the initrd failed (output above); DEBIAN_IMAGE must be a Debian bookworm image whose apt reaches a mirror."
container=$(docker create "$payload_tag" /initrd.cpio)
trap 'docker rm --force "$container" >/dev/null 2>&1 || true' EXIT
mkdir -p "$(dirname "$out")"
docker cp --quiet "$container:/initrd.cpio" "$out.partial"
mv "$out.partial" "$out"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'unikernel initrd: %s (%s MiB) in %d.%01d s\n' "$out" $(( $(stat -c %s "$out") / 1048576 )) $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
