#!/usr/bin/env bash
# Makes sure everything the build and the tests need exists, doing only what is missing:
# apt packages, node_modules, the compiled tree, the kvm kernel and the stage1 images.
# Idempotent and fast (seconds) when everything is there; slow steps are cached under
# /var/cache/rkt-ts/ keyed by their inputs.
#
#   bash scripts/ensure-prereqs.sh            what npm test needs
#   bash scripts/ensure-prereqs.sh --build    packages, node_modules and the build only
#   bash scripts/ensure-prereqs.sh --setup    also refresh apt indexes and reinstall node_modules (npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-default}"
case "$mode" in default|--build|--setup) ;; *) echo "usage: $0 [--build|--setup]" >&2; exit 2 ;; esac

t0=$(date +%s)
log() { printf '[prereqs %3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
die() { printf '[prereqs] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# --- apt packages
wanted=()
while IFS= read -r p; do wanted+=("$p"); done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/apt-packages.txt | grep -v '^$')
missing=()
for p in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
  [ "${status:0:2}" = ii ] || missing+=("$p")
done
if [ "$mode" = --setup ] || [ "${#missing[@]}" -gt 0 ]; then
  is_root || die "missing packages (${missing[*]}); run as root: bash scripts/setup.sh"
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get update"
  # wait for a dpkg lock held by e.g. unattended-upgrades on a freshly booted machine
  apt_lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${apt_lock[@]}" update -q >/dev/null || die "apt-get update failed (is the Debian mirror reachable?)"
  if [ "$mode" = --setup ]; then missing=("${wanted[@]}"); fi
  log "apt-get install ${missing[*]} (a few minutes on a fresh machine)"
  apt-get "${apt_lock[@]}" install -y -q --no-install-recommends "${missing[@]}" \
    | grep --line-buffered -E '^(Unpacking|E:)' | sed -u 's/^/    /' >&2 || true
  for p in "${missing[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
    [ "${status:0:2}" = ii ] || die "apt-get could not install $p"
  done
fi

# --- node
command -v node >/dev/null || die "node is not installed (Node.js 20 is required)"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || die "node $(node --version) is too old; Node.js 20 or newer is required"

# --- node_modules: npm ci when missing or older than the lockfile
if [ "$mode" = --setup ] || [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# --- the compiled tree (native addon + tsc; incremental and quick)
log "building (scripts/build.sh)"
# node-gyp reads npm's log level from the environment: keep its info chatter out of the log
npm_config_loglevel="${npm_config_loglevel:-warn}" bash scripts/build.sh >&2
if [ "$mode" = --build ]; then log "build ready"; exit 0; fi

# --- the kvm stage1's kernel (cached by kernel-config/build.sh itself)
if [ -f kernel-config/build.sh ]; then
  log "kvm kernel (kernel-config/build.sh; about 6 minutes when not cached)"
  kernel="$(bash kernel-config/build.sh)"
  log "kernel: $kernel"
fi

# --- stage1 images (base userland + per-flavor images, both cached)
log "stage1 images (scripts/build-stage1-images.sh; the first base build takes a few minutes)"
bash scripts/build-stage1-images.sh
log "ready"
