#!/usr/bin/env bash
# Builds (once) the trimmed Debian userland every stage1 image starts from and prints its path.
#
#   bash scripts/stage1-base/build.sh            build if missing, print <cache>/stage1-base-<hash>/rootfs
#   bash scripts/stage1-base/build.sh --hash     print only the input hash (no build)
#
# The result is cached under $RKT_CACHE_DIR (default /var/cache/rkt-ts) keyed by a hash of
# the suite, the architecture, the package list and this directory's scripts, so unchanged
# inputs are never rebuilt. The build happens in a temporary directory that is renamed into
# place only when complete; an interrupted build leaves nothing that looks finished.
# Progress goes to stderr; stdout carries only the rootfs path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${RKT_CACHE_DIR:-/var/cache/rkt-ts}"
suite="${RKT_DEBIAN_SUITE:-bookworm}"
arch="$(dpkg --print-architecture)"

log() { printf '[stage1-base] %s\n' "$*" >&2; }
die() { printf '[stage1-base] error: %s\n' "$*" >&2; exit 1; }

# Package list: systemd (the pod's PID 1) plus whatever the stage1 flavors ask for.
packages() {
  {
    echo systemd
    for f in "$repo"/stage1-*/image-build/packages.txt; do
      if [ -f "$f" ]; then sed -e 's/#.*//' -e 's/[[:space:]]//g' "$f"; fi
    done
  } | grep -v '^$' | LC_ALL=C sort -u
}

input_hash() {
  {
    echo "suite=$suite arch=$arch"
    packages
    # every script of this directory shapes the result
    for f in "$here"/*; do echo "== ${f##*/}"; cat "$f"; done
  } | sha256sum | cut -c1-16
}

hash="$(input_hash)"
if [ "${1:-}" = "--hash" ]; then echo "$hash"; exit 0; fi

final="$cache/stage1-base-$hash"
if [ -f "$final/.complete" ]; then echo "$final/rootfs"; exit 0; fi

[ "$(id -u)" = 0 ] || die "building the stage1 base needs root (debootstrap); run: sudo bash $0"
command -v debootstrap >/dev/null || die "debootstrap is not installed; run: sudo bash scripts/setup.sh"

mkdir -p "$cache"
# One builder at a time; a second caller waits and then finds the finished result.
exec 9>"$cache/.stage1-base.lock"
flock 9
if [ -f "$final/.complete" ]; then echo "$final/rootfs"; exit 0; fi

# Unmounts anything debootstrap left mounted below $1 (deepest first), then deletes $1
# without ever crossing into another file system (a leftover bind of /dev must not be hit).
remove_tree() {
  local dir="$1" m
  [ -e "$dir" ] || return 0
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of interrupted builds (we hold the lock, so nobody is using them).
for stale in "$cache"/.tmp-stage1-base-*; do
  if [ -e "$stale" ]; then remove_tree "$stale"; fi
done
# Older complete bases with other hashes are kept for images that still refer to them;
# a finished directory without the marker is an interrupted rename: drop it.
if [ -e "$final" ]; then remove_tree "$final"; fi

tmp="$cache/.tmp-stage1-base-$hash-$$"
trap 'remove_tree "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp" "$cache/debs"

start=$(date +%s)
pkgs="$(packages | paste -sd, -)"
. "$repo/scripts/lib/debian-mirror.sh"
mirror="$(debian_mirror "$suite")" || die "no Debian mirror to debootstrap from"
log "debootstrap $suite ($arch, minbase + $pkgs) from $mirror; takes a few minutes"
if ! debootstrap --variant=minbase --arch="$arch" --include="$pkgs" \
      --cache-dir="$cache/debs" "$suite" "$tmp/rootfs" "$mirror" \
      > "$tmp/debootstrap.log" 2>&1; then
  tail -n 30 "$tmp/debootstrap.log" >&2
  die "debootstrap failed (full log above; check that $mirror is reachable)"
fi
# debootstrap's own mounts are gone on success, but make sure before touching the tree.
awk -v d="$tmp/rootfs/" 'index($2, d) == 1 { exit 1 }' /proc/self/mounts \
  || die "debootstrap left mounts below $tmp/rootfs"
log "debootstrap done in $(( $(date +%s) - start ))s, $(du -sh --one-file-system "$tmp/rootfs" | cut -f1)"
du -sk --one-file-system "$tmp/rootfs" | cut -f1 > "$tmp/size-before-kb"
dpkg-query --admindir="$tmp/rootfs/var/lib/dpkg" -W -f '${Package} ${Version}\n' > "$tmp/package-versions"

bash "$here/trim.sh" "$tmp/rootfs"
du -sk --one-file-system "$tmp/rootfs" | cut -f1 > "$tmp/size-after-kb"
log "trimmed to $(du -sh --one-file-system "$tmp/rootfs" | cut -f1)"

{
  echo "suite=$suite"
  echo "arch=$arch"
  echo "hash=$hash"
  echo "packages=$pkgs"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$(( $(date +%s) - start ))"
  echo "size_before_kb=$(cat "$tmp/size-before-kb")"
  echo "size_after_kb=$(cat "$tmp/size-after-kb")"
} > "$tmp/info"
rm -f "$tmp/size-before-kb" "$tmp/size-after-kb"
touch "$tmp/.complete"
sync -f "$tmp/info"
mv -T "$tmp" "$final"
trap - EXIT
# Bases of older inputs: keep the newest one (a checkout of another revision may still use
# it), delete the rest; stage1 images are cached on their own and do not need them.
while read -r old; do remove_tree "$old"; done \
  < <(ls -1dt "$cache"/stage1-base-* 2>/dev/null | grep -vxF "$final" | tail -n +2)
log "stage1 base ready: $final/rootfs ($(( $(date +%s) - start ))s)"
echo "$final/rootfs"
