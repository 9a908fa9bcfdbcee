#!/usr/bin/env bash
# Builds the local images the swarm lab needs, on the local Debian base (no registry to pull from):
#   optivolt/swarm-lab-node:bookworm-socket  a Docker-in-Docker swarm node (Debian's docker.io; its engine
#                                         on unix sockets only: the tag changed when it stopped listening on TCP)
#   optivolt/registry:2.8                 the lab's image registry (Debian's docker-registry)
#   optivolt/loadgen:wrk                  the bench's load generator (Debian's wrk): the namespace path's
#                                         container and the swarm path's task
#   optivolt/swarm-lab-prometheus:bookworm  Prometheus as a swarm task in the tests (Debian's prometheus)
# Called by images/base/build-base.sh (npm run images:base) once the Debian base exists.
# Usage: bash images/base/build-swarm-lab.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/swarm-lab"

BASE_IMAGE="optivolt/node:22-bookworm"
declare -A IMAGES=(
  [node]="optivolt/swarm-lab-node:bookworm-socket"
  [registry]="optivolt/registry:2.8"
  [loadgen]="optivolt/loadgen:wrk"
  [prometheus]="optivolt/swarm-lab-prometheus:bookworm"
)

force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    *) echo "swarm-lab images: unknown argument '$arg' (only --force is accepted)" >&2; exit 2 ;;
  esac
done

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 ||
  { echo "swarm-lab images: the base $BASE_IMAGE is missing; build it first with npm run images:base" >&2; exit 1; }

# The wrk version Debian ships, for the generator's label org.optivolt.wrk-version (the bench's
# results name it). Read from the stage that copies the binaries, which the loadgen build reuses.
wrk_version() {
  local stage
  stage=$(docker build --quiet --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" --target debian-binaries .)
  docker run --rm --network none "$stage" dpkg-query -W -f '${Version}' wrk
}

for name in node registry loadgen prometheus; do
  tag="${IMAGES[$name]}"
  if ! $force && docker image inspect "$tag" >/dev/null 2>&1; then
    echo "swarm-lab images: $tag already exists (use --force to rebuild)."
    continue
  fi
  started=$SECONDS
  # --network host: apt in the build reaches the Debian mirror the way the host does.
  log=$(mktemp /tmp/optivolt-swarm-lab-build.XXXXXX)
  labels=()
  [ "$name" = loadgen ] && labels=(--label "org.optivolt.wrk-version=$(wrk_version)")
  docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" "${labels[@]}" --target "$name" -t "$tag" . >"$log" 2>&1 ||
    { tail -20 "$log" >&2; rm -f "$log"; echo "swarm-lab images: building $tag failed (log above)" >&2; exit 1; }
  rm -f "$log"
  echo "swarm-lab images: built $tag in $((SECONDS - started)) s"
done
