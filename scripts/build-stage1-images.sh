#!/usr/bin/env bash
# Packs the stage1 ACIs (dist/stage1-images/stage1-<flavor>.aci) from the cached base userland,
# each flavor's rootfs-files/, the compiled JS and the native addon.
#
#   bash scripts/build-stage1-images.sh            all flavors that have image-build/manifest.json
#   bash scripts/build-stage1-images.sh nspawn     only the named flavor(s)
#
# Each image is cached in $RKT_CACHE_DIR/stage1-images/ (default /var/cache/rkt-ts) under a key
# hashing everything that goes in, so re-running with unchanged inputs only copies the cached
# file (or does nothing). Needs a built tree (scripts/build.sh) and root (for the base build).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
cache="${RKT_CACHE_DIR:-/var/cache/rkt-ts}"
out_dir="$repo/dist/stage1-images"

log() { printf '[stage1-images] %s\n' "$*" >&2; }
die() { printf '[stage1-images] error: %s\n' "$*" >&2; exit 1; }

flavors=()
if [ "$#" -gt 0 ]; then
  for f in "$@"; do
    [ -f "stage1-$f/image-build/manifest.json" ] || die "stage1-$f/image-build/manifest.json does not exist"
    flavors+=("$f")
  done
else
  for m in stage1-*/image-build/manifest.json; do
    if [ -f "$m" ]; then d="${m%%/*}"; flavors+=("${d#stage1-}"); fi
  done
fi
if [ "${#flavors[@]}" -eq 0 ]; then
  log "no stage1 flavor has image-build/manifest.json yet; nothing to build"
  exit 0
fi

[ -f dist/common/version.js ] || die "dist/ is not built; run: bash scripts/build.sh"
addon=native/build/Release/rkt_native.node
[ -f "$addon" ] || die "$addon is missing; run: bash scripts/build.sh"
version="$(sed -n "s/^export const RKT_VERSION = '\([^']*\)'.*/\1/p" common/version.ts)"
[ -n "$version" ] || die "cannot read RKT_VERSION from common/version.ts"

base_hash="$(bash scripts/stage1-base/build.sh --hash)"

# The JS of one dist/ subtree that belongs in an image: compiled modules, no tests, no maps.
js_files() {
  [ -d "dist/$1" ] || return 0
  (cd dist && find "$1" -type f -name '*.js' ! -name '*.test.js' | LC_ALL=C sort)
}

# Everything that shapes stage1-<flavor>.aci, as "<sha256>  <path>" lines plus modes
# (executable bits matter) and symlink targets of the flavor's files.
image_inputs() {
  local flavor="$1" dir="stage1-$1" extra
  echo "base=$base_hash version=$version flavor=$flavor"
  sha256sum scripts/build-stage1-images.sh "$addon"
  { js_files common; js_files stage1-shared; js_files "$dir"; } | sed 's|^|dist/|' | xargs -r sha256sum
  # the whole flavor directory: image-build/, rootfs-files/ and sources a customize.sh compiles
  find "$dir" -type f | LC_ALL=C sort | xargs -r sha256sum
  find "$dir" \( -type f -o -type d -o -type l \) -printf '%p %m %y %l\n' | LC_ALL=C sort
  # the kvm kernel: its inputs (fragments, build script) decide what customize.sh puts in
  if grep -qs 'kernel-config' "$dir/image-build/customize.sh"; then
    find kernel-config -type f | LC_ALL=C sort | xargs -r sha256sum
  fi
  # image-build/extra-inputs: repo paths (files or dirs) a customize.sh reads, e.g. kernel-config
  if [ -f "$dir/image-build/extra-inputs" ]; then
    while IFS= read -r extra; do
      extra="${extra%%#*}"; extra="$(echo "$extra" | tr -d '[:space:]')"
      [ -n "$extra" ] || continue
      [ -e "$extra" ] || die "$dir/image-build/extra-inputs names $extra, which does not exist"
      find "$extra" -type f | LC_ALL=C sort | xargs -r sha256sum
    done < "$dir/image-build/extra-inputs"
  fi
}

# Copies <dist subtree> into <rootfs>/stage1/js/, keeping only what js_files selects.
copy_js() {
  local sub="$1" rootfs="$2" f
  while IFS= read -r f; do
    install -D -m 0644 "dist/$f" "$rootfs/stage1/js/$f"
  done < <(js_files "$sub")
}

build_image() {
  local flavor="$1" dir="stage1-$1" key cached tmp rootfs base
  key="$(image_inputs "$flavor" | sha256sum | cut -c1-16)"
  cached="$cache/stage1-images/stage1-$flavor-$key.aci"
  mkdir -p "$out_dir" "$cache/stage1-images"
  if [ -f "$cached" ]; then
    if ! cmp -s "$cached" "$out_dir/stage1-$flavor.aci"; then
      cp "$cached" "$out_dir/.stage1-$flavor.aci.tmp"
      mv -f "$out_dir/.stage1-$flavor.aci.tmp" "$out_dir/stage1-$flavor.aci"
    fi
    log "stage1-$flavor.aci up to date (cache key $key)"
    return 0
  fi

  base="$(bash scripts/stage1-base/build.sh)"
  local start; start=$(date +%s)
  log "building stage1-$flavor.aci (cache key $key)"
  tmp="$(mktemp -d "$cache/stage1-images/.tmp-$flavor-XXXXXX")"
  # shellcheck disable=SC2064 # expand $tmp now: the trap outlives this function's locals
  trap "rm -rf --one-file-system '$tmp'" EXIT
  rootfs="$tmp/rootfs"
  cp -a "$base" "$rootfs"
  if [ -d "$dir/rootfs-files" ]; then cp -a "$dir/rootfs-files/." "$rootfs/"; fi
  copy_js common "$rootfs"
  copy_js stage1-shared "$rootfs"
  copy_js "$dir" "$rootfs"
  install -D -m 0755 "$addon" "$rootfs/stage1/js/native/rkt_native.node"
  # the compiled JS is ES modules; without this node would load it as CommonJS
  printf '{ "type": "module", "private": true }\n' > "$rootfs/stage1/js/package.json"
  if [ -f "$dir/image-build/customize.sh" ]; then
    log "running $dir/image-build/customize.sh"
    bash "$dir/image-build/customize.sh" "$rootfs" >&2
  fi
  sed "s/@VERSION@/$version/g" "$dir/image-build/manifest.json" > "$tmp/manifest"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$tmp/manifest" \
    || die "$dir/image-build/manifest.json is not valid JSON after substitution"
  # Deterministic archive: sorted names, fixed mtimes, numeric owners kept as built (the
  # base has group-owned files such as /etc/shadow), no atime/ctime in pax headers.
  tar --sort=name --mtime=@0 --numeric-owner --format=pax \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      -C "$tmp" -cf "$tmp/image.aci" manifest rootfs
  mv "$tmp/image.aci" "$cached"
  cp "$cached" "$out_dir/.stage1-$flavor.aci.tmp"
  mv -f "$out_dir/.stage1-$flavor.aci.tmp" "$out_dir/stage1-$flavor.aci"
  rm -rf --one-file-system "$tmp"
  trap - EXIT
  # keep the two newest cached images of this flavor
  ls -1t "$cache/stage1-images/stage1-$flavor-"*.aci 2>/dev/null | tail -n +3 | xargs -r rm -f
  log "stage1-$flavor.aci: $(du -h "$out_dir/stage1-$flavor.aci" | cut -f1) in $(( $(date +%s) - start ))s"
}

mkdir -p "$cache/stage1-images"
exec 8>"$cache/stage1-images/.lock"
flock 8
for flavor in "${flavors[@]}"; do build_image "$flavor"; done
