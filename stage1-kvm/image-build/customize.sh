#!/bin/bash
# Last step of building the kvm stage1 rootfs: puts the guest kernel in (built and cached by
# kernel-config/build.sh), and trims what a VM guest booting over 9p does not need: every
# generator but fstab's (volumes come from /etc/fstab) and the units that load modules, set up
# device nodes or remount the root. Under TCG each skipped unit saves a noticeable fraction of a
# second of boot. Usage: customize.sh <rootfs>
set -euo pipefail
root="${1:?usage: customize.sh <rootfs>}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
[ -x "$root/lib/systemd/systemd" ] || { echo "customize.sh: $root has no systemd" >&2; exit 1; }

# --- the guest kernel: vmlinux (PVH entry, no decompression: the faster boot) and the bzImage
bz="$(bash "$repo/kernel-config/build.sh")"
mkdir -p "$root/stage1/kernel"
install -m 0644 "$bz" "$root/stage1/kernel/bzImage"
install -m 0644 "$(dirname "$bz")/vmlinux" "$root/stage1/kernel/vmlinux"
install -m 0644 "$(dirname "$bz")/config" "$root/stage1/kernel/config"

# --- generators: only fstab's is used (pod volumes are 9p lines in /etc/fstab)
gen="$root/usr/lib/systemd/system-generators"
if [ -d "$gen" ]; then
  find "$gen" -mindepth 1 -maxdepth 1 ! -name systemd-fstab-generator -delete
fi

# --- units that have nothing to do in this guest: no modules, devtmpfs already has the nodes,
# the root is mounted rw by the kernel, no TPM, no partitions to grow, no fuse/configfs users.
mask=(
  modprobe@.service systemd-modules-load.service kmod-static-nodes.service
  systemd-tmpfiles-setup-dev.service systemd-remount-fs.service
  systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-pcrphase-initrd.service
  systemd-repart.service sys-fs-fuse-connections.mount sys-kernel-config.mount
  sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount
  systemd-boot-system-token.service systemd-boot-update.service systemd-sysctl.service
)
for u in "${mask[@]}"; do ln -sfn /dev/null "$root/etc/systemd/system/$u"; done

# --- a system bus: `systemd-run --wait --pipe/--pty` (how enter confines a command) needs one
for u in dbus.service dbus.socket; do
  if [ "$(readlink "$root/etc/systemd/system/$u" 2>/dev/null)" = /dev/null ]; then rm -f "$root/etc/systemd/system/$u"; fi
done
if [ -f "$root/usr/lib/systemd/system/dbus.socket" ]; then
  mkdir -p "$root/etc/systemd/system/sockets.target.wants"
  ln -sfn /usr/lib/systemd/system/dbus.socket "$root/etc/systemd/system/sockets.target.wants/dbus.socket"
fi

# --- guest-side helpers of the kvm stage1 (the enter agent)
if [ -f "$here/../guest/rkt-agent.c" ]; then
  mkdir -p "$root/stage1/bin"
  gcc -static -Os -Wall -Werror -o "$root/stage1/bin/rkt-agent" "$here/../guest/rkt-agent.c"
  strip "$root/stage1/bin/rkt-agent"
fi
echo "$root/stage1/kernel/vmlinux" >&2
