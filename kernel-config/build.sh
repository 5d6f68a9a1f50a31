#!/bin/bash
# Builds the rkt kvm guest kernel from Debian's linux-source-6.1 (tinyconfig +
# our fragments), cached under /var/cache/rkt-ts/kernel-<hash>/ keyed by the
# fragments, the source package version and this script. Prints the bzImage
# path on stdout; progress goes to stderr. Never rebuilds an unchanged input.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${RKT_TS_CACHE:-/var/cache/rkt-ts}"
src_pkg="linux-source-6.1"
src_tar="/usr/src/linux-source-6.1.tar.xz"

log() { printf 'kernel: %s\n' "$*" >&2; }

[ -r "$src_tar" ] || { log "missing $src_tar: apt-get install $src_pkg bc flex bison libelf-dev libssl-dev"; exit 1; }
src_version="$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null || stat -c %s-%Y "$src_tar")"

# The cache key: everything that changes the output.
key="$( {
  printf 'source %s %s\n' "$src_pkg" "$src_version"
  for f in "$here"/fragments/*.config; do printf 'fragment %s\n' "$(basename "$f")"; cat "$f"; done
  printf 'script\n'; cat "$0"
} | sha256sum | cut -c1-16)"
out="$cache_root/kernel-$key"

if [ -s "$out/bzImage" ]; then
  log "cached: $out"
  printf '%s\n' "$out/bzImage"
  exit 0
fi

mkdir -p "$cache_root"
# One builder at a time per key (image builds may call us concurrently).
exec 9>"$cache_root/kernel-$key.lock"
flock 9
if [ -s "$out/bzImage" ]; then printf '%s\n' "$out/bzImage"; exit 0; fi

build="$cache_root/kernel-build-$key"
rm -rf "$build"
mkdir -p "$build"
log "extracting $src_tar into $build (about a minute)"
tar -xf "$src_tar" -C "$build" --strip-components=1
cd "$build"

log "make tinyconfig + fragments"
make -s ARCH=x86_64 tinyconfig >&2
./scripts/kconfig/merge_config.sh -m .config "$here"/fragments/*.config >"$build/merge.log" 2>&1 || { cat "$build/merge.log" >&2; exit 1; }
make -s ARCH=x86_64 olddefconfig >&2

# Report fragment options kconfig dropped (unmet dependencies): silent
# drops are how a kernel ends up unable to mount its root.
missing=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*)
      grep -qxF -- "$line" .config && continue ;;
    "# CONFIG_"*" is not set")
      # "not set" is also satisfied by an option that does not exist in this configuration
      sym="${line#\# }"; sym="${sym%% *}"
      grep -qxF -- "$line" .config || ! grep -q "^${sym}=" .config && continue ;;
    *) continue ;;
  esac
  log "warning: fragment option not in final config: $line"; missing=1
done < <(cat "$here"/fragments/*.config)
[ "$missing" = 0 ] || log "(see the warnings above)"

jobs="$(( $(nproc) + 1 ))"
log "make -j$jobs bzImage (about 6 minutes on 2 cores); full log: $build/build.log"
set +e
make ARCH=x86_64 -j"$jobs" bzImage 2>&1 | tee "$build/build.log" | awk '
  /^  (CC|AS|LD|AR)/ { n++; if (n % 100 == 0) { printf "kernel: %d objects built (last: %s)\n", n, $2 > "/dev/stderr"; fflush("/dev/stderr") } }
  /(^|: )(error|Error|ERROR)[: ]/ { print > "/dev/stderr" }'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || { log "build failed (exit $rc); see $build/build.log"; exit "$rc"; }

tmp="$cache_root/.kernel-$key.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
cp arch/x86/boot/bzImage "$tmp/bzImage"
# The uncompressed ELF (PVH entry) boots faster under TCG: no decompression.
strip -o "$tmp/vmlinux" vmlinux 2>/dev/null || cp vmlinux "$tmp/vmlinux"
cp .config "$tmp/config"
printf '%s\n' "$src_pkg $src_version" >"$tmp/source-version"
mv "$tmp" "$out"
rm -rf "$build"
rm -f "$cache_root/kernel-$key.lock"
log "built $out/bzImage"
printf '%s\n' "$out/bzImage"
