#!/usr/bin/env bash
# Builds the micro-VM's boot files from two Debian packages, without installing either:
#
#   build-kernel.sh --kernel-package DEB|NAME --busybox-package DEB|NAME --out DIR [--key HASH]
#
# With --key, a DIR built before with the same HASH (the Pulumi step's trigger) is kept as it is.
#
# A DEB is a .deb file; when a SHA256SUMS file sits beside it, the file must match its line there.
# A NAME is taken from apt (`apt-get download`; a metapackage such as linux-image-cloud-amd64 is
# followed to the kernel package it depends on). DIR receives:
#   vmlinuz          the package's kernel
#   initramfs.cpio   busybox-static, ../init and the kernel's modules the init loads (uncompressed:
#                    under TCG, unpacking costs less than inflating)
#   busybox          the same busybox, which build-disk.sh puts on the root disk
#   packages.txt     the package and version of each, as dpkg-deb reads them
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The modules the init loads, in its order; their .ko files are the only ones packed.
MODULES="virtio_ring virtio virtio_mmio virtio_blk failover net_failover virtio_net squashfs button evdev"
die() { echo "microvm kernel: $*" >&2; exit 1; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

kernel_package="" busybox_package="" out="" key=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "microvm kernel: $1 needs a value" >&2; usage; }
  case "$1" in
    --kernel-package) kernel_package=$2 ;;
    --busybox-package) busybox_package=$2 ;;
    --out) out=$2 ;;
    --key) key=$2 ;;
    *) echo "microvm kernel: unknown argument '$1'" >&2; usage ;;
  esac
  shift 2
done
for pair in "--kernel-package:$kernel_package" "--busybox-package:$busybox_package" "--out:$out"; do
  [ -n "${pair#*:}" ] || { echo "microvm kernel: ${pair%%:*} is required" >&2; usage; }
done
for tool in dpkg-deb cpio sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian: apt-get install dpkg cpio coreutils)."
done

if [ -n "$key" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
  echo "microvm kernel: $out is up to date (key $key)"
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/optivolt-microvm-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Prints the path of the .deb for DEB|NAME, fetched into $work when it is a NAME.
package_file() {
  local wanted=$1
  if [[ "$wanted" == *.deb ]]; then
    [ -f "$wanted" ] || die "package file $wanted does not exist."
    local sums line
    sums="$(dirname "$wanted")/SHA256SUMS"
    if [ -f "$sums" ]; then
      line=$(awk -v name="$(basename "$wanted")" '$2 == name || $2 == "*" name' "$sums")
      [ -n "$line" ] || die "$(basename "$wanted") has no line in $sums; add its sha256 there."
      (cd "$(dirname "$wanted")" && sha256sum --check --status - <<<"$line") ||
        die "$wanted does not match its sha256 in $sums; the file is damaged or not the pinned one."
    fi
    echo "$wanted"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get is missing; name a .deb file instead of the package $wanted."
  local name=$wanted dependency
  # A metapackage holds no files: follow it to the versioned package it depends on.
  dependency=$(apt-cache depends "$name" 2>/dev/null | sed -n "s/^ *Depends: \(${name%-amd64}.*\|linux-image-[0-9].*\)$/\1/p" | head -n1)
  [ -n "$dependency" ] && name=$dependency
  (cd "$work" && apt-get download -qq "$name" >/dev/null 2>&1) || die "apt-get download $name failed; run apt-get update, or name a .deb file."
  ls "$work"/"${name}"_*.deb
}

started=$(date +%s%N)
kernel_deb=$(package_file "$kernel_package")
busybox_deb=$(package_file "$busybox_package")
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1) || true
[ -n "$vmlinuz" ] || die "$kernel_deb holds no boot/vmlinuz-*; name a linux-image package."
release=${vmlinuz##*/vmlinuz-}
[ -x "$work/busybox/bin/busybox" ] || die "$busybox_deb holds no bin/busybox; name busybox-static."

root="$work/initramfs"
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/newroot" "$root/lib/modules/$release"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 0755 "$root/init" "$root/bin/busybox"
for module in $MODULES; do
  file=$(find "$work/kernel/lib/modules/$release" -name "$module.ko" | head -n1)
  [ -n "$file" ] || die "$kernel_deb has no $module.ko; the init needs it (is it built in? then drop it from the list)."
  cp "$file" "$root/lib/modules/$release/"
done

rm -rf "$out.partial" && mkdir -p "$out.partial"
cp "$vmlinuz" "$out.partial/vmlinuz"
cp "$work/busybox/bin/busybox" "$out.partial/busybox"
# Sorted names, root ownership and one timestamp: the same packages give the same archive.
(cd "$root" && find . -mindepth 1 -exec touch -h -d @0 {} + && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.partial/initramfs.cpio"
for deb in "$kernel_deb" "$busybox_deb"; do
  printf '%s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)"
done >"$out.partial/packages.txt"
[ -z "$key" ] || echo "$key" >"$out.partial/key"
rm -rf "$out" && mv "$out.partial" "$out"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'microvm kernel: %s (kernel %s, initramfs %s KiB) in %d.%01d s\n' "$out" "$release" $(( $(stat -c %s "$out/initramfs.cpio") / 1024 )) \
  $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
