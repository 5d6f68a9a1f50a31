#!/usr/bin/env bash
# Turns a debootstrap'd tree into the test VM's root: node, the job runner unit, a fixed
# machine-id, a persistent journal, and nothing at boot that the tests do not need.
#   configure-image.sh <rootfs> <image-files dir> <node binary>
set -euo pipefail
root="$1" files="$2" node_bin="$3"

# This host's node: Debian's nodejs is older than the project's Node 20.
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
cp -a "$files/." "$root/"

echo rkt-test-vm > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 rkt-test-vm\n::1 localhost\n' > "$root/etc/hosts"
# A fixed machine-id: not a first boot (no firstboot units); each run starts from a fresh
# copy of this tree anyway.
echo 5a8c3f0e2b7d4e6f9a1b2c3d4e5f6071 > "$root/etc/machine-id"
# The directory's existence makes journald persistent; nspawn links pod journals below it.
mkdir -p "$root/var/log/journal"
# mount points of the host's shares (the runner cannot create them on a read-only root)
mkdir -p "$root/project" "$root/results"
: > "$root/etc/fstab"

systemctl --root="$root" set-default multi-user.target >/dev/null
systemctl --root="$root" enable rkt-test-vm.service >/dev/null 2>&1
# Nothing logs in on this VM, and under TCG every unit costs boot time.
for unit in getty.target serial-getty@.service getty@.service console-getty.service \
    apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer e2scrub_reap.service \
    systemd-timesyncd.service dpkg-db-backup.timer systemd-networkd-wait-online.service \
    systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-pcrphase-initrd.service \
    qemu-guest-agent.service systemd-logind.service modprobe@drm.service; do
  systemctl --root="$root" mask "$unit" >/dev/null 2>&1 || true
done
echo "configured $root (node $("$node_bin" --version))"
