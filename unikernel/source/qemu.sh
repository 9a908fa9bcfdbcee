#!/usr/bin/env bash
# Runs one of the lab's two QEMU guests, detached, and stops it again:
#
#   qemu.sh start --run-dir DIR [--guest unikraft|linux] --kernel FILE --initrd FILE [--disk FILE]
#                 --memory MIB [--cpus N] --accel auto|kvm|tcg --forward ADDR:PORT [--forward ADDR:PORT ...]
#                 [--tcg-cache MIB] [--timeout SECONDS] [--cpuset LIST] [--env NAME=VALUE ...] -- COMMAND [ARG ...]
#   qemu.sh stop  --run-dir DIR [--grace SECONDS]
#   qemu.sh accel [--guest unikraft|linux] --kernel FILE [--initrd FILE] [--accel auto|kvm|tcg]
#
# Guests: `unikraft` (default), the source-built unikernel on the pc machine; `linux`, the micro-VM
# (microvm/): a Linux kernel on the microvm machine, virtio-mmio devices, --disk as its read-only
# root disk, the ACPI power button wired to its init.
# start: N vCPUs (default 1), guest RAM MIB, user-mode networking forwarding every ADDR:PORT to the
# guest's 8000, the serial console in DIR/serial.log, QEMU's pid in DIR/qemu.pid; then waits until
# GET /health on the first forward answers (within --timeout, default 120). On failure it prints the
# guest's last lines, stops QEMU and removes DIR. Once it answers, DIR/boot.json records the boot
# ({"bootMs": N, "accel": "kvm"|"tcg", "startedAt": ISO}). Its last line is `accel=kvm` or `accel=tcg`.
# stop: a linux guest first gets the power button (its init sends the app SIGTERM, so the app's drain
# runs, and powers off when the app exits) and the grace period (default 5 s) to go; then, as for a
# unikernel, SIGTERM to QEMU, SIGKILL after the grace period; then removes DIR. A QEMU already gone
# is not an error.
# accel: prints which acceleration `auto` resolves to here: kvm only when a probe boot under KVM
# reaches the guest's banner (a /dev/kvm that opens is not enough: it may not run this guest).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GUEST_PORT=8000
GUEST_NET="netdev.ip=10.0.2.15/24:10.0.2.2"
KVM_PROBE_SECONDS=10
# The linux guest's console, quiet (every console byte is slow under TCG), and a panic that ends QEMU (-no-reboot).
LINUX_APPEND="console=ttyS0 quiet panic=-1"

# What proves a boot: Unikraft's banner, or the micro-VM init's first line.
banner() { case "$1" in linux) echo "optivolt-init: started" ;; *) echo "Powered by Unikraft" ;; esac; }
# Sets `machine` to QEMU's machine and boot files for a guest: $1 guest, $2 kernel, $3 initrd (may be empty).
set_machine() {
  machine=(-kernel "$2")
  [ -n "$3" ] && machine+=(-initrd "$3")
  # microvm: no PCI, no firmware; ACPI for the power button, the ISA serial for the console.
  [ "$1" = linux ] && machine=(-M microvm,isa-serial=on,acpi=on,pcie=off "${machine[@]}")
  true
}

die() { echo "unikernel qemu: $*" >&2; exit 1; }

# The host's TSC rate in kHz, or nothing. Under TCG the guest's rdtsc reads the host's TSC, and the
# microvm machine gives the guest nothing to measure it against (no HPET, no ACPI PM timer, no port
# 0x61 gate for the PIT's channel 2): its kernel fails the TSC calibration, and on a busy host its
# timer tick then never comes (the boot hangs in calibrate_delay; docs/microvm.md "Early-boot hang").
# The host kernel's own figure, else /proc/cpuinfo's when the TSC runs at a constant rate.
host_tsc_khz() {
  local mhz
  mhz=$(dmesg 2>/dev/null | sed -nE 's/.*tsc: Refined TSC clocksource calibration: ([0-9]+\.[0-9]+) MHz.*/\1/p; s/.*tsc: Detected ([0-9]+\.[0-9]+) MHz processor.*/\1/p' | tail -n1)
  if [ -z "$mhz" ] && grep -qw constant_tsc /proc/cpuinfo 2>/dev/null; then
    mhz=$(sed -nE 's/^cpu MHz[[:space:]]*:[[:space:]]*([0-9]+(\.[0-9]+)?).*/\1/p' /proc/cpuinfo | head -n1)
  fi
  [ -n "$mhz" ] && awk -v mhz="$mhz" 'BEGIN { printf "%d\n", mhz * 1000 + 0.5 }'
  true
}
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
need_qemu() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    die "qemu-system-x86_64 is missing; install QEMU (Debian: apt-get install --no-install-recommends qemu-system-x86) and retry."
}

# The pid in DIR/qemu.pid when that process is alive and is QEMU (a stale file may name another process).
running_pid() {
  local pid
  pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

# Prints the acceleration `auto` resolves to, and why, on stderr.
resolve_accel() {
  local guest=$1 kernel=$2 initrd=$3 wanted=$4
  if [ "$wanted" != auto ]; then echo "$wanted"; return; fi
  if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "unikernel qemu: acceleration tcg (/dev/kvm is not usable here)" >&2
    echo tcg; return
  fi
  local probe log probe_append="--" banner_line machine
  set_machine "$guest" "$kernel" "$initrd"
  banner_line=$(banner "$guest")
  [ "$guest" = linux ] && probe_append="$LINUX_APPEND optivolt.probe"
  probe=$(mktemp -d /tmp/optivolt-kvm-probe.XXXXXX)
  log="$probe/serial.log"
  # In a subshell whose stderr is dropped: bash would report a QEMU that aborts as a dead job.
  (timeout --kill-after=2 "$KVM_PROBE_SECONDS" qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 128M -nodefaults -no-reboot \
    -display none -serial "file:$log" "${machine[@]}" -append "$probe_append" >"$probe/stderr" 2>&1; true) 2>/dev/null &
  local probe_pid=$! i
  for ((i = 0; i < KVM_PROBE_SECONDS * 5; i++)); do
    grep -qa "$banner_line" "$log" 2>/dev/null && break
    kill -0 "$probe_pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$probe_pid" 2>/dev/null || true
  wait "$probe_pid" 2>/dev/null || true
  if grep -qa "$banner_line" "$log" 2>/dev/null; then
    echo "unikernel qemu: acceleration kvm (a probe boot under KVM reached the guest's banner)" >&2
    echo kvm
  else
    local why
    why=$(grep -av '^$' "$probe/stderr" 2>/dev/null | head -n1 | cut -c1-160 || true)
    echo "unikernel qemu: acceleration tcg (a probe boot under KVM did not reach the guest's banner within ${KVM_PROBE_SECONDS} s${why:+: $why})" >&2
    echo tcg
  fi
  rm -rf "$probe"
}

# The serial log's last lines, printable characters only (the firmware draws with escape codes).
guest_log() { tr -cd '\11\12\40-\176' <"$1/serial.log" 2>/dev/null | grep -v '^\s*$' | tail -n "${2:-30}" || true; }

stop_qemu() {
  local dir=$1 grace=$2 pid i
  if pid=$(running_pid "$dir"); then
    if [ -S "$dir/monitor.sock" ]; then
      # The linux guest's power button: its init forwards SIGTERM to the app and powers off after the drain.
      node -e 'require("net").connect(process.argv[1]).on("error", () => {}).end("system_powerdown\n")' "$dir/monitor.sock"
      for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "unikernel qemu: the guest did not power off within ${grace} s; stopping QEMU" >&2
      else
        echo "unikernel qemu: the guest powered off (power button, the app drained)"
      fi
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "unikernel qemu: pid $pid still running after ${grace} s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    echo "unikernel qemu: stopped pid $pid"
  fi
  rm -rf "$dir"
}

cmd_start() {
  local run_dir="" guest=unikraft kernel="" initrd="" disk="" memory="" cpus=1 accel="" tcg_cache=32 timeout=120 cpuset=""
  local -a forwards=() envs=() command=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --) shift; command=("$@"); break ;;
      --run-dir|--guest|--kernel|--initrd|--disk|--memory|--cpus|--accel|--forward|--tcg-cache|--timeout|--env|--cpuset)
        [ $# -ge 2 ] || { echo "unikernel qemu: $1 needs a value" >&2; usage; } ;;&
      --run-dir) run_dir=$2 ;;
      --guest) guest=$2 ;;
      --kernel) kernel=$2 ;;
      --initrd) initrd=$2 ;;
      --disk) disk=$2 ;;
      --memory) memory=$2 ;;
      --cpus) cpus=$2 ;;
      --accel) accel=$2 ;;
      --forward) forwards+=("$2") ;;
      --tcg-cache) tcg_cache=$2 ;;
      --timeout) timeout=$2 ;;
      --env) envs+=("$2") ;;
      --cpuset) cpuset=$2 ;;
      *) echo "unikernel qemu: unknown argument '$1'" >&2; usage ;;
    esac
    shift 2
  done
  [ -n "$run_dir" ] && [ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$memory" ] && [ -n "$accel" ] && [ ${#forwards[@]} -gt 0 ] && [ ${#command[@]} -gt 0 ] ||
    { echo "unikernel qemu: start needs --run-dir, --kernel, --initrd, --memory, --accel, --forward and a command after --" >&2; usage; }
  [[ "$memory" =~ ^[0-9]+$ ]] || die "--memory must be a whole number of MiB, got '$memory'."
  [[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a whole number of vCPUs, got '$cpus'."
  case "$guest" in unikraft|linux) ;; *) die "--guest must be unikraft or linux, got '$guest'." ;; esac
  [ "$guest" = linux ] && [ -z "$disk" ] && die "a linux guest needs --disk (its root file system)."
  [ -z "$disk" ] || [ -f "$disk" ] || die "disk $disk does not exist; build it first (microvm/build-disk.sh)."
  case "$accel" in auto|kvm|tcg) ;; *) die "--accel must be auto, kvm or tcg, got '$accel'." ;; esac
  [ -f "$kernel" ] || die "kernel $kernel does not exist; build it first (build-kernel.sh)."
  [ -f "$initrd" ] || die "initrd $initrd does not exist; build it first (build-initrd.sh)."
  need_qemu
  local pid
  if pid=$(running_pid "$run_dir"); then die "already running (pid $pid, $run_dir); stop it first."; fi

  accel=$(resolve_accel "$guest" "$kernel" "$initrd" "$accel")
  local accel_args=(-accel kvm -cpu host)
  # A bounded translation cache: QEMU's default (1 GiB) would count against the variant's memory.
  [ "$accel" = tcg ] && accel_args=(-accel "tcg,tb-size=$tcg_cache" -cpu max)

  local netdev="user,id=net0" forward
  for forward in "${forwards[@]}"; do
    [[ "$forward" =~ ^[0-9.]+:[0-9]+$ ]] || die "--forward must be ADDRESS:PORT, got '$forward'."
    netdev+=",hostfwd=tcp:${forward}-:${GUEST_PORT}"
  done

  local env
  for env in "${envs[@]}"; do
    [[ "$env" =~ ^[A-Za-z_][A-Za-z0-9_]*=[^\"\ ]*$ ]] || die "--env must be NAME=VALUE without spaces or quotes, got '$env'."
  done
  local append devices
  if [ "$guest" = linux ]; then
    # Linux hands NAME=VALUE words to init as its environment, and what follows `--` as its argv.
    append="$LINUX_APPEND"
    if [ "$accel" = tcg ]; then
      local tsc_khz
      tsc_khz=$(host_tsc_khz)
      if [ -n "$tsc_khz" ]; then append+=" tsc_early_khz=$tsc_khz"
      else echo "unikernel qemu: the host's TSC rate is unknown (no dmesg line, no constant_tsc); the guest may hang in early boot under TCG" >&2; fi
    fi
    append+=" ${envs[*]} -- ${command[*]}"
    devices=(-drive "id=root,file=$disk,format=raw,if=none,readonly=on" -device virtio-blk-device,drive=root
      -device virtio-net-device,netdev=net0 -chardev "socket,id=monitor,path=$run_dir/monitor.sock,server=on,wait=off" -mon chardev=monitor)
  else
    # Unikraft's parameters, then `--`, then the application's argv.
    local env_list=""
    for env in "${envs[@]}"; do env_list+=" \"$env\""; done
    append="$GUEST_NET"
    [ -n "$env_list" ] && append+=" env.vars=[$env_list ]"
    append+=" -- ${command[*]}"
    devices=(-device virtio-net-pci,netdev=net0)
  fi

  rm -rf "$run_dir" && mkdir -p "$run_dir"
  # Pinned like a container's cpuset: every QEMU thread (vCPU, I/O) inherits the affinity.
  local pin=()
  if [ -n "$cpuset" ]; then
    [[ "$cpuset" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || die "--cpuset must be a cpu list such as 0 or 0-1, got '$cpuset'."
    command -v taskset >/dev/null 2>&1 || die "taskset is missing (Debian: apt-get install util-linux); it pins QEMU to --cpuset."
    pin=(taskset -c "$cpuset")
  fi
  local machine
  set_machine "$guest" "$kernel" "$initrd"
  local qemu=("${pin[@]}" qemu-system-x86_64 "${accel_args[@]}" -smp "$cpus" -m "${memory}M" -nodefaults -no-reboot -display none
    "${machine[@]}" -append "$append"
    -netdev "$netdev" "${devices[@]}"
    -serial "file:$run_dir/serial.log" -daemonize -pidfile "$run_dir/qemu.pid")
  # Quoted as a shell would need it, so the line can be pasted to run QEMU by hand.
  printf 'unikernel qemu:'; printf ' %q' "${qemu[@]}"; echo
  local started=$(date +%s%N) started_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  if ! "${qemu[@]}" 2>"$run_dir/qemu.stderr"; then
    local why
    why=$(cat "$run_dir/qemu.stderr")
    rm -rf "$run_dir"
    die "QEMU did not start: ${why:-no message}"
  fi
  pid=$(cat "$run_dir/qemu.pid")
  echo "unikernel qemu: started pid $pid (${memory} MiB, ${cpus} vCPU, accel $accel), waiting for /health"

  local url="http://${forwards[0]}/health"
  (cd "$here/.." && exec node -r ts-node/register/transpile-only wait-for-health.ts "$url" "$timeout") >"$run_dir/health.log" 2>&1 &
  local waiter=$!
  while kill -0 "$waiter" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then kill "$waiter" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  if wait "$waiter" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
    local elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    printf 'unikernel qemu: %s answered %d.%01d s after QEMU started\n' "$url" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
    # The boot record beside the pid file, for the bench report's ladder.
    printf '{"bootMs": %d, "accel": "%s", "startedAt": "%s"}\n' "$elapsed_ms" "$accel" "$started_at" >"$run_dir/boot.json"
    echo "accel=$accel"
    return 0
  fi
  local reason
  if kill -0 "$pid" 2>/dev/null; then reason=$(cat "$run_dir/health.log"); else reason="QEMU exited before /health answered"; fi
  echo "unikernel qemu: the guest's last lines:" >&2
  guest_log "$run_dir" 30 >&2
  stop_qemu "$run_dir" 2 >/dev/null
  die "${reason} (try more memoryMi or healthTimeoutSeconds)"
}

cmd_stop() {
  local run_dir="" grace=5
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "unikernel qemu: $1 needs a value" >&2; usage; }
    case "$1" in
      --run-dir) run_dir=$2 ;;
      --grace) grace=$2 ;;
      *) echo "unikernel qemu: unknown argument '$1'" >&2; usage ;;
    esac
    shift 2
  done
  [ -n "$run_dir" ] || { echo "unikernel qemu: stop needs --run-dir" >&2; usage; }
  [[ "$grace" =~ ^[0-9]+$ ]] || die "--grace must be whole seconds, got '$grace'."
  stop_qemu "$run_dir" "$grace"
}

cmd_accel() {
  local guest=unikraft kernel="" initrd="" accel=auto
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "unikernel qemu: $1 needs a value" >&2; usage; }
    case "$1" in
      --guest) guest=$2 ;;
      --kernel) kernel=$2 ;;
      --initrd) initrd=$2 ;;
      --accel) accel=$2 ;;
      *) echo "unikernel qemu: unknown argument '$1'" >&2; usage ;;
    esac
    shift 2
  done
  [ -f "$kernel" ] || die "kernel '$kernel' does not exist; build it first (build-kernel.sh)."
  need_qemu
  resolve_accel "$guest" "$kernel" "$initrd" "$accel"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  accel) shift; cmd_accel "$@" ;;
  *) usage ;;
esac
