#!/bin/sh
# Last step of building the nspawn stage1 rootfs: mask every unit a pod does not need, so the pod's
# systemd boots straight to its apps (the pod's default.target, written at run time, wants only them).
# Usage: customize.sh <rootfs-dir>
set -eu
root="$1"
[ -d "$root/usr/lib/systemd/system" ] || { echo "customize.sh: $root has no systemd units" >&2; exit 1; }
mask_dir="$root/etc/systemd/system"
mkdir -p "$mask_dir"
for unit in \
  dev-hugepages.mount sys-fs-fuse-connections.mount sys-kernel-config.mount sys-kernel-debug.mount \
  sys-kernel-tracing.mount proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
  systemd-remount-fs.service systemd-sysusers.service systemd-update-utmp.service \
  systemd-update-utmp-runlevel.service systemd-tmpfiles-setup-dev.service kmod-static-nodes.service \
  modprobe@.service systemd-modules-load.service systemd-pcrphase.service systemd-pcrphase-sysinit.service \
  systemd-pcrphase-initrd.service systemd-machine-id-commit.service systemd-firstboot.service \
  systemd-ask-password-console.path systemd-ask-password-wall.path systemd-random-seed.service \
  systemd-sysctl.service systemd-binfmt.service systemd-journald-audit.socket systemd-hwdb-update.service \
  systemd-update-done.service ldconfig.service systemd-journal-catalog-update.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
  systemd-tmpfiles-clean.timer getty.target console-getty.service systemd-logind.service
do
  ln -sfn /dev/null "$mask_dir/$unit"
done
# Generators only matter on a real machine (fstab, getty, sysv scripts, cryptsetup); masking them all
# saves a large part of the pod's boot.
gen_dir="$root/etc/systemd/system-generators"
mkdir -p "$gen_dir"
for g in "$root"/usr/lib/systemd/system-generators/*; do
  [ -e "$g" ] && ln -sfn /dev/null "$gen_dir/${g##*/}"
done
# The ID-mapped bind helper (overlay lower layers of --private-users pods), static so it runs on the host.
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$root/stage1/bin"
cc -O2 -static -Wall -o "$root/stage1/bin/idmap-bind" "$here/src/idmap-bind.c"
# Reserved for the stage1 at run time (the stage1 contract forbids shipping them).
rm -rf "$root/opt/stage2" "$root/rkt"
