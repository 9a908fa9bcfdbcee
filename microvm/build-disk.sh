#!/usr/bin/env bash
# Makes the micro-VM's read-only root disk, without root privileges:
#
#   build-disk.sh --payload FILE --busybox FILE --out FILE [--key HASH]
#
# With --key, a FILE built before with the same HASH (the Pulumi step's trigger; kept in FILE.key)
# is kept as it is.
#
# --payload is the unikernel's initrd (unikernel/source/build-initrd.sh): Debian's Node and the web
# API's app tree, so both VM rungs run the same program from one build. The disk is that tree plus
# busybox and /etc/passwd (the init switches to uid 1000 with them) and the mount points the init needs, as a
# squashfs image (squashfs-tools): compressed, read-only by design, owned by root whoever builds it.
set -euo pipefail

die() { echo "microvm disk: $*" >&2; exit 1; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

payload="" busybox="" out="" key=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "microvm disk: $1 needs a value" >&2; usage; }
  case "$1" in
    --payload) payload=$2 ;;
    --busybox) busybox=$2 ;;
    --out) out=$2 ;;
    --key) key=$2 ;;
    *) echo "microvm disk: unknown argument '$1'" >&2; usage ;;
  esac
  shift 2
done
for pair in "--payload:$payload" "--busybox:$busybox" "--out:$out"; do
  [ -n "${pair#*:}" ] || { echo "microvm disk: ${pair%%:*} is required" >&2; usage; }
done
if [ -n "$key" ] && [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
  echo "microvm disk: $out is up to date (key $key)"
  exit 0
fi
command -v mksquashfs >/dev/null 2>&1 || die "mksquashfs is missing (Debian: apt-get install squashfs-tools)."
command -v cpio >/dev/null 2>&1 || die "cpio is missing (Debian: apt-get install cpio)."
[ -f "$payload" ] || die "payload $payload does not exist; build the unikernel's initrd first (unikernel/source/build-initrd.sh)."
[ -f "$busybox" ] || die "busybox $busybox does not exist; build the kernel step first (build-kernel.sh)."

payload=$(realpath "$payload")
work=$(mktemp -d "${TMPDIR:-/tmp}/optivolt-microvm-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

started=$(date +%s%N)
mkdir -p "$work/root"
(cd "$work/root" && cpio --quiet -idm --no-absolute-filenames <"$payload") || die "$payload is not a cpio archive."
[ -x "$work/root/usr/bin/node" ] || die "$payload holds no usr/bin/node; is it the unikernel's initrd?"
mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/proc" "$work/root/dev" "$work/root/tmp"
cp "$busybox" "$work/root/bin/busybox"
# The app's user, uid 1000 as in the container images: busybox resolves it by name.
echo "app:x:1000:1000:web API:/tmp:/bin/false" >"$work/root/etc/passwd"
echo "app:x:1000:" >"$work/root/etc/group"
chmod 0755 "$work/root/bin/busybox"
mkdir -p "$(dirname "$out")"
# lz4: the fastest to read back under TCG. Timestamps fixed: the same tree gives the same image.
mksquashfs "$work/root" "$out.partial" -noappend -quiet -no-progress -all-root -comp lz4 -mkfs-time 0 -all-time 0 >/dev/null ||
  die "mksquashfs failed (output above)."
rm -f "$out.key"
mv "$out.partial" "$out"
[ -z "$key" ] || echo "$key" >"$out.key"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'microvm disk: %s (%s MiB squashfs) in %d.%01d s\n' "$out" $(( $(stat -c %s "$out") / 1048576 )) $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
