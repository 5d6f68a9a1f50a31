#!/usr/bin/env bash
# One-command setup of a fresh Debian 12 machine, as root: system packages, npm ci, build,
# kvm kernel, stage1 images, `rkt` on PATH, then the sample run (scripts/demo.sh).
#
#   bash scripts/setup.sh             everything, ending with the demo
#   bash scripts/setup.sh --no-demo   everything but the demo
#
# Safe to re-run: every slow step is cached under /var/cache/rkt-ts/ by its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=1
for a in "$@"; do
  case "$a" in
    --no-demo) demo=0 ;;
    *) echo "usage: $0 [--no-demo]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "setup: run as root (it installs packages): sudo bash scripts/setup.sh" >&2; exit 1; }
if ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "setup: warning: this project is built and tested on Debian 12 (bookworm); continuing" >&2
fi

t0=$(date +%s)
phase() { printf '\n=== [%ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

phase "1/3 packages, npm ci, build, kvm kernel, stage1 images"
bash scripts/ensure-prereqs.sh --setup

phase "2/3 installing rkt on PATH"
bash scripts/install.sh

if [ "$demo" = 1 ]; then
  phase "3/3 sample run (scripts/demo.sh)"
  bash scripts/demo.sh
else
  phase "3/3 sample run skipped (--no-demo)"
fi

phase "setup finished in $(( $(date +%s) - t0 ))s; run the tests with: npm test"
