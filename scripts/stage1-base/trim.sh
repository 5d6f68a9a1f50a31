#!/usr/bin/env bash
# Trims a freshly debootstrapped tree into a stage1 base: small, no package manager, no host
# leftovers, systemd set up to boot a pod fast. Usage: trim.sh <rootfs>. Run by build.sh.
set -euo pipefail
root="${1:?usage: trim.sh <rootfs>}"
[ -x "$root/lib/systemd/systemd" ] || { echo "trim.sh: $root has no systemd" >&2; exit 1; }
cd "$root"

# Deletes paths relative to the rootfs (globs allowed), never following symlinks out of it.
del() {
  local p
  for p in "$@"; do
    if [ -e "$p" ] || [ -L "$p" ]; then rm -rf --one-file-system -- "$p"; fi
  done
}

# --- documentation, translations, completions: nothing reads them in a pod
find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
find usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
del usr/share/man usr/share/info usr/share/lintian usr/share/linda usr/share/doc-base \
    usr/share/bash-completion usr/share/zsh usr/share/fish usr/share/menu usr/share/locale \
    usr/share/i18n usr/share/gcc usr/share/gdb
# locales: keep only C.utf8 (ships with libc-bin and needs no locale-gen)
find usr/lib/locale -mindepth 1 -maxdepth 1 ! -name C.utf8 -exec rm -rf {} + 2>/dev/null || true
# time zones: the journal stores UTC; keep UTC so /etc/localtime resolves
if [ -d usr/share/zoneinfo ]; then
  find usr/share/zoneinfo -mindepth 1 -maxdepth 1 ! -name UTC ! -name Etc ! -name tzdata.zi -exec rm -rf {} +
  find usr/share/zoneinfo/Etc -mindepth 1 ! -name UTC -delete 2>/dev/null || true
  ln -sfn /usr/share/zoneinfo/Etc/UTC etc/localtime
  echo Etc/UTC > etc/timezone
fi
# iconv modules: nothing in a stage1 converts charsets
del usr/lib/x86_64-linux-gnu/gconv

# --- package management: a stage1 is never upgraded in place; flavors add packages through
# image-build/packages.txt at base build time instead. /var/lib/dpkg/status stays as an inventory.
del usr/bin/apt usr/bin/apt-* usr/lib/apt etc/apt var/lib/apt var/cache/apt \
    usr/lib/x86_64-linux-gnu/libapt-pkg.so* usr/lib/x86_64-linux-gnu/libapt-private.so* \
    etc/cron.daily/apt-compat etc/logrotate.d/apt usr/lib/systemd/system/apt-daily*
del usr/bin/perl usr/bin/perl5* usr/lib/x86_64-linux-gnu/perl-base usr/lib/x86_64-linux-gnu/perl \
    usr/share/perl5 usr/share/perl usr/share/debconf var/cache/debconf usr/sbin/dpkg-* \
    usr/bin/debconf* usr/sbin/debconf*
del usr/bin/dpkg usr/bin/dpkg-* usr/share/dpkg var/lib/dpkg/info var/lib/dpkg/*-old \
    var/lib/dpkg/available var/lib/dpkg/diversions-old etc/dpkg/dpkg.cfg.d \
    usr/lib/systemd/system/dpkg-db-backup.* etc/cron.daily/dpkg usr/libexec/dpkg
del var/cache/ldconfig/aux-cache var/lib/systemd/catalog/database var/lib/systemd/deb-systemd-*
# logs of the build itself
find var/log -type f -delete 2>/dev/null || true
del var/log/apt root/.bash_history root/.cache tmp/* var/tmp/*

# --- device nodes: nspawn and the VM's systemd provide /dev; ACIs must not carry nodes
find dev proc sys run -xdev -mindepth 1 -delete 2>/dev/null || true

# --- things a stage1 must not ship: stage0 creates them per pod
del opt/stage2 rkt/status rkt/env rkt

# --- host leftovers: debootstrap copies some host files in; the pod gets its own at run time
del etc/hostname etc/resolv.conf etc/mailname
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > etc/hosts
# empty machine-id: systemd then uses the id it is given (nspawn --uuid, kernel cmdline)
: > etc/machine-id
del var/lib/dbus/machine-id etc/ssh/ssh_host_*

# --- journald: persistent journal in /var/log/journal/<machine-id>, readable from the host
mkdir -p var/log/journal etc/systemd/journald.conf.d
cat > etc/systemd/journald.conf.d/10-rkt-stage1.conf <<'EOF'
# Pods keep their journal on disk so the host can read it after the pod exits.
[Journal]
Storage=persistent
EOF

# --- boot: multi-user without logins, timers or first-boot work; PID 1 should reach the
# default target and the apps quickly. dbus is left alone: a flavor that lists it in its
# packages.txt needs it (rkt enter's systemd-run). Flavors mask more in their customize.sh.
ln -sfn /lib/systemd/system/multi-user.target etc/systemd/system/default.target
mask=(
  getty.target getty@.service serial-getty@.service console-getty.service container-getty@.service
  systemd-logind.service systemd-user-sessions.service
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
  systemd-timesyncd.service systemd-firstboot.service systemd-machine-id-commit.service
  systemd-update-utmp.service systemd-update-utmp-runlevel.service
  systemd-journal-catalog-update.service systemd-update-done.service ldconfig.service
  systemd-sysusers.service systemd-random-seed.service systemd-pstore.service
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount
  systemd-tmpfiles-clean.timer apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
  e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer
  systemd-ask-password-wall.path systemd-ask-password-console.path
  cron.service rsyslog.service
)
for u in "${mask[@]}"; do ln -sfn /dev/null "etc/systemd/system/$u"; done
# wants-links to timers and gettys that the masks make dangling
find etc/systemd/system -path '*.wants/*' \( -name '*.timer' -o -name 'getty@*' \) -delete 2>/dev/null || true
# ConditionNeedsUpdate= units stay quiet when these stamps are newer than /usr
touch etc/.updated var/.updated

# --- sanity: what stage1 code relies on must still be there and runnable
special="$(find . -xdev \( -type b -o -type c -o -type p -o -type s \) -print -quit)"
[ -z "$special" ] || { echo "trim.sh: special file $special left in the tree" >&2; exit 1; }
for b in lib/systemd/systemd bin/systemctl bin/journalctl bin/sh bin/mount bin/umount \
         usr/bin/nsenter usr/bin/setpriv bin/cat bin/ls bin/mkdir bin/ln bin/rm bin/cp; do
  [ -e "$b" ] || { echo "trim.sh: $b missing after trimming" >&2; exit 1; }
done
chroot . /bin/sh -c 'systemctl --version >/dev/null && setpriv --version >/dev/null &&
  nsenter --version >/dev/null && mount --version >/dev/null && ls / >/dev/null' \
  || { echo "trim.sh: binaries no longer run after trimming" >&2; exit 1; }
