#!/usr/bin/env bash
# Builds (once) the test VM's root tree, a Debian bookworm with systemd as PID 1, and prints
# the image directory (<cache>/test-vm-<hash>, holding rootfs/ and info).
#
#   bash test-vm/build-image.sh          build if missing, print the image directory
#   bash test-vm/build-image.sh --hash   print only the image hash (no build)
#
# Two cached layers under $RKT_CACHE_DIR (default /var/cache/rkt-ts):
#   test-vm-base-<h>/rootfs  debootstrap output, keyed by suite, arch, packages.txt and the
#                            debootstrap recipe below (slow: minutes, downloads packages)
#   test-vm-<h>/rootfs       a copy of the base plus this host's node binary, image-files/
#                            and the unit setup, keyed by everything in test-vm/ that shapes
#                            it and the node version (seconds)
# Each layer is built in a temporary directory and renamed into place when complete, so
# an interrupted build never looks finished. Progress goes to stderr, the path to stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${RKT_CACHE_DIR:-/var/cache/rkt-ts}"
suite="${RKT_DEBIAN_SUITE:-bookworm}"
arch="$(dpkg --print-architecture)"
node_bin="$(command -v node)"

log() { printf '[test-vm] %s\n' "$*" >&2; }
die() { printf '[test-vm] error: %s\n' "$*" >&2; exit 1; }

packages() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/packages.txt" | grep -v '^$' | LC_ALL=C sort -u; }

# The recipe of the base layer; its text is part of the base hash.
debootstrap_base() {
  local target="$1" pkgs
  pkgs="$(packages | paste -sd, -)"
  debootstrap --variant=minbase --arch="$arch" --include="$pkgs" \
    --cache-dir="$cache/test-vm-debs" "$suite" "$target" "$mirror"
}

base_hash() {
  { echo "suite=$suite arch=$arch"; packages; declare -f debootstrap_base; } | sha256sum | cut -c1-16
}

image_hash() {
  {
    echo "base=$(base_hash)"
    echo "node=$("$node_bin" --version)"
    cat "$here/build-image.sh" "$here/configure-image.sh"
    (cd "$here/image-files" && find . -type f | LC_ALL=C sort | while read -r f; do
      echo "== $f $(stat -c %a "$f")"; cat "$f"; done)
  } | sha256sum | cut -c1-16
}

# Unmounts whatever is left mounted below $1 (deepest first), then deletes $1 without
# crossing into another file system (a leftover bind of /dev must never be hit).
remove_tree() {
  local dir="$1" m
  [ -e "$dir" ] || return 0
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

hash="$(image_hash)"
if [ "${1:-}" = "--hash" ]; then echo "$hash"; exit 0; fi
final="$cache/test-vm-$hash"
if [ -f "$final/.complete" ]; then echo "$final"; exit 0; fi

[ "$(id -u)" = 0 ] || die "building the test VM needs root (debootstrap, chroot); run it as root"
command -v debootstrap >/dev/null || die "debootstrap is not installed; run: bash scripts/setup.sh"
mkdir -p "$cache" "$cache/test-vm-debs"
# One builder at a time; a second caller waits and then finds the finished result.
exec 9>"$cache/.test-vm-build.lock"
flock 9
if [ -f "$final/.complete" ]; then echo "$final"; exit 0; fi
for stale in "$cache"/.tmp-test-vm-*; do [ -e "$stale" ] && remove_tree "$stale"; done

tmp=""
trap '[ -n "$tmp" ] && remove_tree "$tmp"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

bhash="$(base_hash)"
base="$cache/test-vm-base-$bhash"
if [ ! -f "$base/.complete" ]; then
  [ -e "$base" ] && remove_tree "$base"
  tmp="$cache/.tmp-test-vm-base-$bhash-$$"
  mkdir -p "$tmp"
  . "$here/../scripts/lib/debian-mirror.sh"
  mirror="$(debian_mirror "$suite")" || die "no Debian mirror to debootstrap from"
  log "debootstrap $suite ($arch, minbase + $(packages | paste -sd' ' -)) from $mirror"
  log "this takes several minutes once; later runs reuse $base"
  if ! debootstrap_base "$tmp/rootfs" > "$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log above; check that $mirror is reachable)"
  fi
  awk -v d="$tmp/rootfs/" 'index($2, d) == 1 { exit 1 }' /proc/self/mounts \
    || die "debootstrap left mounts below $tmp/rootfs"
  dpkg-query --admindir="$tmp/rootfs/var/lib/dpkg" -W -f '${Package} ${Version}\n' > "$tmp/package-versions"
  touch "$tmp/.complete"
  mv -T "$tmp" "$base"
  tmp=""
  log "base ready in $(( $(date +%s) - start ))s: $(du -sh --one-file-system "$base/rootfs" | cut -f1)"
fi

tmp="$cache/.tmp-test-vm-$hash-$$"
mkdir -p "$tmp"
log "configuring image $hash from base $bhash"
cp -a --reflink=auto "$base/rootfs" "$tmp/rootfs"
bash "$here/configure-image.sh" "$tmp/rootfs" "$here/image-files" "$node_bin" >&2
{
  echo "hash=$hash"
  echo "base=$bhash"
  echo "suite=$suite"
  echo "node=$("$node_bin" --version)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "size_kb=$(du -sk --one-file-system "$tmp/rootfs" | cut -f1)"
} > "$tmp/info"
cp "$base/package-versions" "$tmp/package-versions"
touch "$tmp/.complete"
mv -T "$tmp" "$final"
tmp=""

# Older images of this script are dropped unless a run still has them mounted.
for old in "$cache"/test-vm-????????????????; do
  [ "$old" = "$final" ] && continue
  [ -d "$old" ] || continue
  if grep -qF "$old/" /proc/self/mounts; then continue; fi
  log "removing the outdated image $old"
  remove_tree "$old"
done
log "image ready in $(( $(date +%s) - start ))s: $final"
echo "$final"
