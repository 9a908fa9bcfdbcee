#!/usr/bin/env bash
# A three-node Docker Swarm on this one machine, for trying and testing the `swarm` engine:
# Docker-in-Docker nodes (one manager, two workers) on a bridge network this script creates.
#
# Usage: npm run swarm:lab -- up|down
#   up    creates (or completes) the lab and prints the manager's engine as its last line:
#         DOCKER_HOST=unix:///run/optivolt-swarm-lab/<name>/docker.sock
#         a unix socket of the host, with the owner and group of the host's own Docker socket: only who
#         may use this host's engine may use the lab's. No node's engine listens on TCP.
#   down  removes the nodes, their volumes, the network and the socket's folder: nothing is left behind.
# Env:   SWARM_LAB_NAME    prefix of every container, volume and network (default optivolt-swarm-lab)
#        SWARM_LAB_SUBNET  the lab network, a /24 (default 10.87.0.0/24); nodes get .2, .3, .4
#        SWARM_LAB_POOL    where Swarm takes overlay subnets from (default 10.88.0.0/16)
# Nodes: <name>-manager (optivolt.role=lab), <name>-worker1 (lab), <name>-worker2 (loadgen).
# Needs a Docker engine and the images `npm run images:base` builds (built here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

LAB="${SWARM_LAB_NAME:-optivolt-swarm-lab}"
SUBNET="${SWARM_LAB_SUBNET:-10.87.0.0/24}"
POOL="${SWARM_LAB_POOL:-10.88.0.0/16}"
NODE_IMAGE="optivolt/swarm-lab-node:bookworm-socket"
REGISTRY_IMAGE="optivolt/registry:2.8"
# The bench's generator (`--path swarm` runs it as a task on the loadgen node); images:base builds it.
LOADGEN_IMAGE="${OPTIVOLT_LOADGEN_IMAGE:-optivolt/loadgen:wrk}"
PROMETHEUS_IMAGE="optivolt/swarm-lab-prometheus:bookworm"
# The program builds the web API on the manager's engine (docker:host), so it needs the bases there.
BASE_IMAGES=(optivolt/node:22-bookworm optivolt/node:22-minimal)
NODES=(manager worker1 worker2)
declare -A ROLE=([manager]=lab [worker1]=lab [worker2]=loadgen)
declare -A HOST_NUMBER=([manager]=2 [worker1]=3 [worker2]=4)
LABEL="optivolt.swarm-lab=$LAB"
REGISTRY_PORT=5000
# Where the manager's engine socket appears on the host (a folder per lab, bind-mounted into the manager).
SOCKET_ROOT=/run/optivolt-swarm-lab
SOCKET_DIR="$SOCKET_ROOT/$LAB"
NODE_SOCKET_DIR=/run/optivolt-lab-engine

die() { echo "swarm:lab: $*" >&2; exit 1; }
log() { echo "swarm:lab: $*" >&2; }
node_name() { echo "$LAB-$1"; }
# Runs the docker CLI inside a node, against that node's own engine.
in_node() { local node="$1"; shift; docker exec "$(node_name "$node")" docker "$@"; }
node_ip() { echo "${SUBNET%.*/*}.${HOST_NUMBER[$1]}"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

check_config() {
  [[ "$LAB" =~ ^[a-z0-9][a-z0-9_.-]*$ ]] || die "SWARM_LAB_NAME='$LAB' is not a valid container name prefix (use lower-case letters, digits, . _ -)."
  [[ "$SUBNET" =~ ^([0-9]+\.){3}0/24$ ]] || die "SWARM_LAB_SUBNET='$SUBNET' must be a /24 such as 10.87.0.0/24."
  docker info >/dev/null 2>&1 || die "no Docker engine answers; start dockerd (as root: dockerd &, or systemctl start docker) and retry."
}

running() { [ "$(docker container inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

# The group of the host's own engine socket: the lab's socket gets it, so the same people may use both.
host_socket_group() {
  local socket=/var/run/docker.sock
  [[ "${DOCKER_HOST:-}" == unix://* ]] && socket="${DOCKER_HOST#unix://}"
  if [ -S "$socket" ]; then stat -c %g "$socket"; else echo 0; fi
}

ensure_images() {
  if ! docker image inspect "$NODE_IMAGE" "$REGISTRY_IMAGE" "$LOADGEN_IMAGE" "$PROMETHEUS_IMAGE" >/dev/null 2>&1; then
    log "building the lab images (images/base/build-swarm-lab.sh)"
    bash images/base/build-swarm-lab.sh >&2
  fi
}

ensure_network() {
  local existing
  if existing=$(docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$LAB" 2>/dev/null); then
    [ "$existing" = "$SUBNET" ] || die "network $LAB exists with subnet $existing, not $SUBNET; run npm run swarm:lab -- down first."
    return 0
  fi
  local error
  error=$(mktemp)
  if ! docker network create --driver bridge --subnet "$SUBNET" --label "$LABEL" "$LAB" >/dev/null 2>"$error"; then
    local why
    why=$(cat "$error")
    rm -f "$error"
    die "cannot create network $LAB on $SUBNET: $why; choose a free /24 with SWARM_LAB_SUBNET."
  fi
  rm -f "$error"
}

# One node container. Not --privileged: on this kernel the bounding set lacks CAP_SYS_RESOURCE and
# Docker 20.10 ignores --cap-drop with --privileged, so the runtime refuses to start it. Instead: every
# capability but that one, no seccomp/AppArmor confinement, /proc and /sys unmasked (systempaths), all
# devices allowed by the device cgroup; the entrypoint remounts /sys and the cgroups read-write.
# The manager's engine also listens on a socket in a host folder; every engine listens on its own
# /var/run/docker.sock inside its node and on nothing else (Swarm needs no engine API between nodes).
start_node() {
  local node="$1" name engine_socket=() mount=()
  name=$(node_name "$node")
  if docker container inspect "$name" >/dev/null 2>&1; then
    running "$name" || docker start "$name" >/dev/null
    return 0
  fi
  if [ "$node" = manager ]; then
    mount=(--volume "$SOCKET_DIR:$NODE_SOCKET_DIR")
    engine_socket=(--host "unix://$NODE_SOCKET_DIR/docker.sock" --group "$(host_socket_group)")
  fi
  docker run --detach --name "$name" --hostname "$name" --label "$LABEL" \
    --network "$LAB" --ip "$(node_ip "$node")" "${mount[@]}" \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --device-cgroup-rule 'a *:* rwm' \
    --volume "$name-docker:/var/lib/docker" \
    "$NODE_IMAGE" --insecure-registry "$SUBNET" "${engine_socket[@]}" >/dev/null
}

wait_for_engine() {
  local node="$1" deadline=$((SECONDS + 90))
  until in_node "$node" info >/dev/null 2>&1; do
    running "$(node_name "$node")" || die "node $(node_name "$node") stopped while starting; its log: $(docker logs --tail 5 "$(node_name "$node")" 2>&1)"
    ((SECONDS < deadline)) || die "the engine in $(node_name "$node") did not answer within 90 s; see docker logs $(node_name "$node")"
    sleep 0.3
  done
}

swarm_state() { in_node "$1" info --format '{{.Swarm.LocalNodeState}}'; }

form_swarm() {
  if [ "$(swarm_state manager)" != active ]; then
    in_node manager swarm init --advertise-addr "$(node_ip manager)" --default-addr-pool "$POOL" >/dev/null
  fi
  local token
  token=$(in_node manager swarm join-token --quiet worker)
  for node in worker1 worker2; do
    [ "$(swarm_state "$node")" = active ] && continue
    in_node "$node" swarm join --token "$token" "$(node_ip manager):2377" >/dev/null
  done
  for node in "${NODES[@]}"; do
    in_node manager node update --label-add "optivolt.role=${ROLE[$node]}" "$(node_name "$node")" >/dev/null
  done
}

# Loads a host image into a node unless it already has the same image ID.
preload() {
  local node="$1" image="$2" id
  id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) || return 0
  [ "$(in_node "$node" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$id" ] && return 0
  docker save "$image" | docker exec -i "$(node_name "$node")" docker load >/dev/null
}

up() {
  check_config
  ensure_images
  local started engines_at swarm_at
  started=$(date +%s.%N)
  ensure_network
  for node in "${NODES[@]}"; do start_node "$node"; done
  for node in "${NODES[@]}"; do wait_for_engine "$node"; done
  engines_at=$(elapsed "$started")
  form_swarm
  swarm_at=$(elapsed "$started")
  preload manager "$REGISTRY_IMAGE"
  for image in "${BASE_IMAGES[@]}"; do preload manager "$image"; done
  preload manager "$PROMETHEUS_IMAGE"
  preload worker2 "$LOADGEN_IMAGE"
  log "engines answered after ${engines_at} s, swarm formed after ${swarm_at} s, images loaded after $(elapsed "$started") s"
  in_node manager node ls --format '{{.Hostname}} {{.ManagerStatus}} {{.Status}}' | while read -r host rest; do
    log "node $host: $rest, labels $(in_node manager node inspect --format '{{json .Spec.Labels}}' "$host")"
  done
  docker stats --no-stream --format 'swarm:lab: memory of {{.Name}}: {{.MemUsage}}' "${NODES[@]/#/$LAB-}" >&2
  echo "SWARM_LAB_REGISTRY=$(node_ip manager):$REGISTRY_PORT"
  [ -S "$SOCKET_DIR/docker.sock" ] || die "the manager's engine socket $SOCKET_DIR/docker.sock is missing; see docker logs $(node_name manager)"
  echo "DOCKER_HOST=unix://$SOCKET_DIR/docker.sock"
}

down() {
  check_config
  local containers volumes
  mapfile -t containers < <(docker ps --all --quiet --filter "label=$LABEL")
  if ((${#containers[@]})); then
    docker rm --force --volumes "${containers[@]}" >/dev/null
  fi
  for node in "${NODES[@]}"; do
    volume="$(node_name "$node")-docker"
    if docker volume inspect "$volume" >/dev/null 2>&1; then docker volume rm "$volume" >/dev/null; fi
  done
  if docker network inspect "$LAB" >/dev/null 2>&1; then docker network rm "$LAB" >/dev/null; fi
  # The socket's folder belongs to root (the engine made it): a throwaway container removes it when we cannot.
  if [ -d "$SOCKET_DIR" ] && ! rm -rf "$SOCKET_DIR" 2>/dev/null; then
    docker run --rm --volume "$SOCKET_ROOT:$SOCKET_ROOT" --entrypoint rm "$NODE_IMAGE" -rf "$SOCKET_DIR"
  fi
  volumes=$(docker volume ls --quiet --filter "name=^$LAB-")
  [ -z "$volumes" ] || die "volumes still present: $volumes"
  if ((${#containers[@]})); then log "removed ${#containers[@]} node(s), their volumes and network $LAB"; else log "no lab named $LAB: nothing to remove"; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: npm run swarm:lab -- up|down (got '${1:-}')" ;;
esac
