#!/usr/bin/env bash
# Builds Unikraft's ELF loader for QEMU x86_64 from pinned release archives, with make (no kraft):
#
#   build-kernel.sh --out DIR --unikraft LOC --unikraft-sha256 HEX --app-elfloader LOC --app-elfloader-sha256 HEX
#                   --lib-lwip LOC --lib-lwip-sha256 HEX --lib-libelf LOC --lib-libelf-sha256 HEX --lwip-zip LOC --lwip-zip-sha256 HEX
#
# LOC is an https URL or a file path; each archive must have the SHA-256 given with it, or nothing is
# unpacked. The kernel lands in DIR/elfloader_qemu-x86_64; DIR/inputs.sha256 records what it was built
# from, and a second run with the same inputs does nothing ("cached"). The lwIP zip is put where
# lib-lwip's build looks for it (its top folder named as lib-lwip expects), so the build downloads nothing.
# Exit 2: a bad argument or a local archive that is not there (the stack config's to fix); 1: anything else.
set -euo pipefail

KERNEL_NAME=elfloader_qemu-x86_64
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "unikernel build: $*" >&2; exit 1; }
config_error() { echo "unikernel build: $*" >&2; exit 2; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

out="" unikraft="" elfloader="" lwip="" libelf="" lwip_zip=""
declare -A sums=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "unikernel build: $1 needs a value" >&2; usage; }
  case "$1" in
    --out) out=$2 ;;
    --unikraft) unikraft=$2 ;;
    --app-elfloader) elfloader=$2 ;;
    --lib-lwip) lwip=$2 ;;
    --lib-libelf) libelf=$2 ;;
    --lwip-zip) lwip_zip=$2 ;;
    --unikraft-sha256|--app-elfloader-sha256|--lib-lwip-sha256|--lib-libelf-sha256|--lwip-zip-sha256)
      [[ "$2" =~ ^[0-9a-f]{64}$ ]] || { echo "unikernel build: $1 must be 64 hex digits, got '$2'" >&2; usage; }
      sums[${1#--}]=$2 ;;
    *) echo "unikernel build: unknown argument '$1'" >&2; usage ;;
  esac
  shift 2
done
for pair in "--out:$out" "--unikraft:$unikraft" "--app-elfloader:$elfloader" "--lib-lwip:$lwip" "--lib-libelf:$libelf" "--lwip-zip:$lwip_zip"; do
  [ -n "${pair#*:}" ] || { echo "unikernel build: ${pair%%:*} is required" >&2; usage; }
done
for name in unikraft app-elfloader lib-lwip lib-libelf lwip-zip; do
  [ -n "${sums[$name-sha256]:-}" ] || { echo "unikernel build: --$name-sha256 is required (set unikernel.source.sha256 in the stack config)" >&2; usage; }
done
for location in "$unikraft" "$elfloader" "$lwip" "$libelf" "$lwip_zip"; do
  case "$location" in
    http://*) config_error "$location is an http:// URL, which anyone on the path can change; use https:// or a local file in unikernel.source.archives." ;;
    https://*) ;;
    *) [ -f "$location" ] || config_error "archive $location does not exist; fix unikernel.source.archives in the stack config." ;;
  esac
done

# The build runs make in other folders (make -C): the output folder as an absolute path. (Callers may
# name it relative to where they run, as the Pulumi steps do so that every clone runs the same command.)
out=$(realpath -m -- "$out")

# What the kernel is made of: the archives' locations, the configuration and this recipe.
inputs_hash=$(printf '%s\n' "$unikraft" "$elfloader" "$lwip" "$libelf" "$lwip_zip" "${sums[@]}" | cat - "$here/defconfig" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$out/$KERNEL_NAME" ] && [ "$(cat "$out/inputs.sha256" 2>/dev/null)" = "$inputs_hash" ]; then
  echo "unikernel build: cached ($out/$KERNEL_NAME, inputs ${inputs_hash:0:12})"
  exit 0
fi

missing=()
for tool in make gcc ld flex bison unzip tar python3; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: install them (Debian: apt-get install build-essential flex bison unzip python3) and retry."

started=$(date +%s%N)
work="$out/work"
rm -rf "$work" && mkdir -p "$work/archives" "$work/build/liblwip"
trap 'rm -rf "$work"' EXIT

# Copies or downloads one archive to $work/archives/NAME, and checks its SHA-256 (the flag named SUM).
fetch() {
  local location=$1 name=$2 expected=${sums[$3-sha256]}
  case "$location" in
    http://*|https://*)
      command -v curl >/dev/null 2>&1 || die "curl is missing; it downloads $location (or point the archive locations at local files)."
      curl -fsSL --retry 2 -o "$work/archives/$name" "$location" || die "cannot download $location; check the URL or point unikernel.source.archives at local copies."
      ;;
    *)
      [ -f "$location" ] || die "archive $location does not exist; fix unikernel.source.archives in the stack config."
      cp "$location" "$work/archives/$name"
      ;;
  esac
  local actual
  actual=$(sha256sum "$work/archives/$name" | cut -d' ' -f1)
  [ "$actual" = "$expected" ] ||
    die "$location has SHA-256 $actual, not the $expected the stack config gives (unikernel.source.sha256); nothing was built. Check where the archive comes from before changing the sum."
}

# Unpacks a GitHub release tarball (one top folder) into $work/NAME.
unpack() {
  mkdir -p "$work/$2"
  tar -xzf "$work/archives/$1" -C "$work/$2" --strip-components=1 || die "$1 is not a gzipped tar archive (from $3)."
}

fetch "$unikraft" unikraft.tar.gz unikraft
fetch "$elfloader" app-elfloader.tar.gz app-elfloader
fetch "$lwip" lib-lwip.tar.gz lib-lwip
fetch "$libelf" lib-libelf.tar.gz lib-libelf
fetch "$lwip_zip" UNIKRAFT-2_1_x.zip lwip-zip
unpack unikraft.tar.gz unikraft "$unikraft"
unpack app-elfloader.tar.gz app-elfloader "$elfloader"
unpack lib-lwip.tar.gz lib-lwip "$lwip"
unpack lib-libelf.tar.gz lib-libelf "$libelf"
unzip -tq "$work/archives/UNIKRAFT-2_1_x.zip" >/dev/null 2>&1 || die "$lwip_zip is not a zip archive."
# lib-lwip unpacks fork-lwip-UNIKRAFT-2_1_x/; GitHub names a commit's archive fork-lwip-<commit>/.
python3 - "$work/archives/UNIKRAFT-2_1_x.zip" "$work/build/liblwip/UNIKRAFT-2_1_x.zip" <<'PY' || die "$lwip_zip does not hold one top folder."
import sys, zipfile
source, target = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED)
tops = {info.filename.split("/", 1)[0] for info in source.infolist()}
if len(tops) != 1: sys.exit(1)
for info in source.infolist():
    data = source.read(info)
    info.filename = "fork-lwip-UNIKRAFT-2_1_x/" + info.filename.split("/", 1)[1]
    target.writestr(info, data)
target.close()
PY

app="$work/app-elfloader"
make_args=(-C "$work/unikraft" "A=$app" "L=$work/lib-libelf:$work/lib-lwip" "O=$work/build")
echo "unikernel build: configuring (defconfig) and building with make -j$(nproc)"
UK_DEFCONFIG="$here/defconfig" make "${make_args[@]}" defconfig >"$work/make.log" 2>&1 ||
  { tail -30 "$work/make.log" >&2; die "make defconfig failed (log above)."; }
make "${make_args[@]}" -j"$(nproc)" >>"$work/make.log" 2>&1 ||
  { tail -30 "$work/make.log" >&2; die "make failed (log above)."; }

mkdir -p "$out"
cp "$work/build/$KERNEL_NAME" "$out/$KERNEL_NAME"
echo "$inputs_hash" >"$out/inputs.sha256"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'unikernel build: %s (%s bytes) in %d.%01d s\n' "$out/$KERNEL_NAME" "$(stat -c %s "$out/$KERNEL_NAME")" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
