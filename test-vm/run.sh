#!/usr/bin/env bash
# Boots the test VM (systemd as PID 1, machined, journald) and runs the in-VM tests
# (dist/tests/vm/*.test.js) against this project tree; exits with their exit status.
#
#   bash test-vm/run.sh                       all in-VM tests
#   bash test-vm/run.sh dist/tests/vm/x.test.js ...   only these (paths relative to the repo)
#
# Environment:
#   RKT_TEST_VM_TIMEOUT  seconds before the VM is killed and the run fails (default 2400)
#   RKT_TEST_VM_BOOT_TIMEOUT  seconds for the guest to reach its job runner (default 240)
#   RKT_TEST_VM_KVM      1 = run the kvm-stage1-inside-the-VM test, 0 = skip it. Default: 1 when the
#                        test VM has hardware KVM, 0 under TCG (the pod's QEMU is then TCG inside TCG, and on a
#                        2-core host its guest has not reached its app after 11 minutes)
#   RKT_TEST_VM_ACCEL    kvm|tcg (default: kvm when /dev/kvm is usable and not PVM, else tcg)
#   RKT_TEST_VM_MEM      guest memory in MiB (default 3072); RKT_TEST_VM_CPUS (default 2)
#   RKT_TEST_VM_KERNEL   guest kernel image (default: kernel-config/build.sh's cached build)
#   RKT_TEST_VM_TSC_KHZ  the host's TSC frequency for TCG guests (default: from dmesg/cpuinfo)
#   RKT_TEST_VM_CPU      QEMU -cpu for TCG (default: max, presented as an Intel family-6 CPU)
#   RKT_TEST_VM_VERBOSE  1 = stream the guest console (boot messages) instead of the test output
#   RKT_TEST_VM_JOB      a shell command to run in the VM instead of the tests (debugging)
#
# The project tree is shared read-only (9p tag "project", mounted at /project), the results
# folder read-write (tag "results"). The VM's root is an overlay over the cached image with
# a throwaway upper layer, so runs never change the cache. Only one VM runs at a time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${RKT_CACHE_DIR:-/var/cache/rkt-ts}"
timeout_s="${RKT_TEST_VM_TIMEOUT:-2400}"
boot_timeout_s="${RKT_TEST_VM_BOOT_TIMEOUT:-240}"
mem="${RKT_TEST_VM_MEM:-3072}"
cpus="${RKT_TEST_VM_CPUS:-2}"
last="$repo/.cache/test-vm/last"

log() { printf '[test-vm] %s\n' "$*" >&2; }
die() { printf '[test-vm] error: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "the test VM needs root (overlay mount, debootstrap); run it as root"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed; run: bash scripts/setup.sh"

cd "$repo"
files=("$@")
if [ "${#files[@]}" -eq 0 ]; then
  shopt -s nullglob
  files=(dist/tests/vm/*.test.js)
  shopt -u nullglob
fi
[ "${#files[@]}" -gt 0 ] || die "no in-VM tests in dist/tests/vm; run: npm run build"
for f in "${files[@]}"; do [ -f "$f" ] || die "no such test file: $f (paths are relative to $repo)"; done

t0=$(date +%s)
image="$(bash "$here/build-image.sh")"
kernel="${RKT_TEST_VM_KERNEL:-}"
if [ -z "$kernel" ]; then
  [ -f "$repo/kernel-config/build.sh" ] || die "no guest kernel: kernel-config/build.sh is missing; set RKT_TEST_VM_KERNEL"
  kernel="$(bash "$repo/kernel-config/build.sh")"
  # The uncompressed ELF next to it boots through PVH: no decompression under TCG.
  [ -f "$(dirname "$kernel")/vmlinux" ] && kernel="$(dirname "$kernel")/vmlinux"
fi
[ -r "$kernel" ] || die "guest kernel not readable: $kernel"

accel="${RKT_TEST_VM_ACCEL:-}"
if [ -z "$accel" ]; then
  # kvm_pvm answers KVM ioctls but hangs stock guest kernels (docs/test-vm.md).
  if [ -w /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ]; then accel=kvm; else accel=tcg; fi
fi
# Under TCG the guest's TSC is the host's TSC, but the guest calibrates it against the
# emulated PIT; on a loaded host that fails ("Unable to calibrate against PIT") and the
# kernel then hangs before its console comes up (measured: 5 of 5 boots with two busy
# loops running). Telling it the frequency skips the calibration (5 of 5 boots).
host_tsc_khz() {
  local mhz
  mhz="$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n1)"
  [ -n "$mhz" ] || mhz="$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n1)"
  [ -n "$mhz" ] || mhz="$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)"
  [ -n "$mhz" ] && awk -v m="$mhz" 'BEGIN { printf "%d\n", m * 1000 }'
}
tsc_arg=""
case "$accel" in
  kvm) accel_args=(-accel kvm -cpu host) ;;
  tcg)
    # An Intel family-6 model, like the hosts this runs on: the guest kernel then marks the
    # TSC constant (constant_tsc), which is what tells a kvm stage1 inside the VM that
    # /proc/cpuinfo's "cpu MHz" is the TSC rate it must hand to its own, nested, guest.
    accel_args=(-accel tcg,thread=multi -cpu "${RKT_TEST_VM_CPU:-max,vendor=GenuineIntel,family=6,model=85,stepping=4}")
    tsc_khz="${RKT_TEST_VM_TSC_KHZ:-$(host_tsc_khz || true)}"
    [ -n "$tsc_khz" ] && tsc_arg=" tsc_early_khz=$tsc_khz" ;;
  *) die "RKT_TEST_VM_ACCEL must be kvm or tcg, got: $accel" ;;
esac

mkdir -p "$cache"
exec 8>"$cache/.test-vm-run.lock"
if ! flock -n 8; then log "another test VM is running; waiting for it (one VM at a time)"; flock 8; fi

run="$(mktemp -d /var/tmp/rkt-test-vm.XXXXXX)"
root="$run/root"
qemu_pid=""
tail_pid=""
cleanup() {
  [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null || true
  [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
  if mountpoint -q "$root"; then umount "$root" || umount -l "$root" || true; fi
  rm -rf --one-file-system "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$root" "$run/upper" "$run/work" "$run/results"
if ! mount -t overlay overlay -o "lowerdir=$image/rootfs,upperdir=$run/upper,workdir=$run/work" "$root" 2>"$run/mount.err"; then
  log "overlay mount failed ($(cat "$run/mount.err")); copying the image instead"
  rmdir "$root"
  cp -a --reflink=auto "$image/rootfs" "$root"
fi

{
  echo 'set -u'
  echo 'export RKT_TEST_VM=1 RKT_PROJECT=/project'
  echo "export RKT_TEST_VM_KVM=${RKT_TEST_VM_KVM:-$([ "$accel" = kvm ] && echo 1 || echo 0)} RKT_TEST_VM_ACCEL=$accel"
  echo 'echo "[vm] kernel $(uname -r), $(systemctl --version | head -n1), node $(node --version), $(nproc) cpus"'
  if [ -n "${RKT_TEST_VM_JOB:-}" ]; then
    printf '%s\n' "$RKT_TEST_VM_JOB"
  else
    printf 'exec node --test --test-concurrency=1 --test-reporter=spec'
    printf ' %q' "${files[@]}"
    echo
  fi
} > "$run/results/job.sh"

# Every flag has a reason:
#   microvm             no PCI/firmware to emulate: the fastest machine to boot under TCG
#   -no-reboot          the guest's reboot-force (job done) ends QEMU
#   passthrough root    the guest writes files owned by many users (journal, dbus, machined)
#   multidevs=remap     the overlay's layers have different st_dev; keep inode numbers unique
#   reboot=t            triple-fault reboot: needs no ACPI reset support in the kernel
#   tsc_early_khz       (TCG) see host_tsc_khz above
#   cache=loose         nothing on the host changes the root while the guest runs: let it cache
#   8250.nr_uarts=1 pci=off  microvm has one UART and no PCI bus: skip probing them
#   tsc=reliable        TCG's TSC jitters; keep the clocksource watchdog from demoting it
cmdline="console=ttyS0 8250.nr_uarts=1 pci=off tsc=reliable"
cmdline+=" root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose rw"
cmdline+=" init=/lib/systemd/systemd reboot=t panic=-1 loglevel=4 systemd.show_status=1 systemd.log_color=0$tsc_arg"
qemu=(qemu-system-x86_64 -M microvm "${accel_args[@]}" -m "$mem" -smp "$cpus"
  -nodefaults -no-user-config -display none -no-reboot
  -kernel "$kernel" -append "$cmdline"
  -chardev "file,id=con,path=$run/console.log" -serial chardev:con
  -fsdev "local,id=root,path=$root,security_model=passthrough,multidevs=remap"
  -device virtio-9p-device,fsdev=root,mount_tag=root
  -fsdev "local,id=project,path=$repo,security_model=none,readonly=on"
  -device virtio-9p-device,fsdev=project,mount_tag=project
  -fsdev "local,id=results,path=$run/results,security_model=none"
  -device virtio-9p-device,fsdev=results,mount_tag=results)

log "image $(basename "$image"), kernel $kernel, accel $accel${tsc_arg}, ${mem} MiB, $cpus cpus, timeout ${timeout_s}s"
log "booting; tests: ${files[*]}"
boot0=$(date +%s)
"${qemu[@]}" > "$run/qemu.out" 2>&1 &
qemu_pid=$!
if [ "${RKT_TEST_VM_VERBOSE:-0}" = 1 ]; then
  tail -n +1 -F --pid="$qemu_pid" "$run/console.log" 2>/dev/null &
else
  tail -n +1 -F --pid="$qemu_pid" "$run/results/output.log" 2>/dev/null &
fi
tail_pid=$!

# Two deadlines: the guest must reach the job runner (vm.log appears) within the boot
# timeout, so a hung boot fails in minutes, and the whole run within the overall timeout.
timed_out=""
while kill -0 "$qemu_pid" 2>/dev/null; do
  elapsed=$(( $(date +%s) - boot0 ))
  if [ "$elapsed" -ge "$timeout_s" ]; then timed_out="did not finish within ${timeout_s}s (raise RKT_TEST_VM_TIMEOUT)"; fi
  if [ "$elapsed" -ge "$boot_timeout_s" ] && [ ! -e "$run/results/vm.log" ]; then
    timed_out="did not boot to its job runner within ${boot_timeout_s}s (RKT_TEST_VM_BOOT_TIMEOUT)"
  fi
  if [ -n "$timed_out" ]; then kill -9 "$qemu_pid" 2>/dev/null || true; break; fi
  sleep 1
done
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=""
sleep 0.3
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
tail_pid=""

# Keep the logs of the last run where a human (or CI) can read them afterwards.
rm -rf "$last"; mkdir -p "$last"
cp "$run/console.log" "$run/qemu.out" "$last/" 2>/dev/null || true
cp -r "$run/results/." "$last/" 2>/dev/null || true

vm_s=$(( $(date +%s) - boot0 ))
if [ -n "$timed_out" ]; then
  log "guest console (last 40 lines):"; tail -n 40 "$run/console.log" >&2 || true
  log "FAILED: the test VM $timed_out; logs in $last"
  exit 1
fi
if [ ! -f "$run/results/exit-code" ]; then
  log "qemu output:"; cat "$run/qemu.out" >&2 || true
  log "guest console (last 60 lines):"; tail -n 60 "$run/console.log" >&2 || true
  log "FAILED: the VM stopped (qemu exit $qemu_rc) after ${vm_s}s without a test result; logs in $last"
  exit 1
fi
rc="$(cat "$run/results/exit-code")"
[ -f "$run/results/vm.log" ] && sed 's/^/[test-vm] guest: /' "$run/results/vm.log" >&2
if [ "$rc" = 0 ]; then
  log "PASSED: in-VM tests exited 0 (VM ${vm_s}s, total $(( $(date +%s) - t0 ))s); logs in $last"
  exit 0
fi
log "FAILED: in-VM tests exited $rc (VM ${vm_s}s, total $(( $(date +%s) - t0 ))s); logs in $last"
exit 1
