#!/usr/bin/env bash
# Puts `rkt` on PATH: writes <prefix>/bin/rkt (default /usr/local/bin/rkt), a small wrapper
# that runs this checkout's dist/bin/rkt.js with the node found now. rkt.js locates its
# default stage1 images next to itself (dist/stage1-images/), so the checkout must stay put.
#
#   bash scripts/install.sh [--prefix DIR]      install or update
#   bash scripts/install.sh --uninstall [--prefix DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
prefix=/usr/local
action=install
while [ "$#" -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    *) echo "usage: $0 [--prefix DIR] [--uninstall]" >&2; exit 2 ;;
  esac
done
target="$prefix/bin/rkt"

if [ "$action" = uninstall ]; then
  if [ -f "$target" ] && grep -q 'installed by rkt-ts scripts/install.sh' "$target"; then
    rm -f "$target"; echo "removed $target"
  else
    echo "nothing to remove: $target is not an rkt-ts wrapper" >&2
  fi
  exit 0
fi

[ -f dist/bin/rkt.js ] || { echo "install: dist/bin/rkt.js is missing; run: bash scripts/build.sh" >&2; exit 1; }
node="$(command -v node)" || { echo "install: node is not on PATH" >&2; exit 1; }
node="$(readlink -f "$node")"
if [ -e "$target" ] && ! grep -q 'installed by rkt-ts scripts/install.sh' "$target" 2>/dev/null; then
  echo "install: $target exists and is not ours; remove it first" >&2; exit 1
fi

mkdir -p "$prefix/bin"
tmp="$(mktemp "$prefix/bin/.rkt.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# An absolute node path keeps `sudo rkt` working whatever sudo's PATH is.
cat > "$tmp" <<WRAPPER
#!/bin/sh
# rkt: installed by rkt-ts scripts/install.sh from $repo
exec "$node" "$repo/dist/bin/rkt.js" "\$@"
WRAPPER
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
trap - EXIT
version="$("$target" version)" || { echo "install: $target version failed" >&2; exit 1; }
echo "installed $target -> $repo/dist/bin/rkt.js (${version%%$'\n'*})"
