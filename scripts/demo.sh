#!/usr/bin/env bash
# The sample run: builds a busybox ACI, signs it with a fresh GnuPG key, trusts the key,
# fetches (verifies) the image, lists the store, and runs the signed image as a pod with each
# stage1 flavor whose image is built. A flavor whose stage1 image is not built, and the OCI sample
# when its tools are missing, are reported as skipped. Everything lives in a private demo directory; the host's rkt data
# and configuration are not touched.
#
#   bash scripts/demo.sh        (RKT_DEMO_DIR=<dir> to choose the demo directory)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
demo="${RKT_DEMO_DIR:-/var/tmp/rkt-demo}"
prefix="example.com/rkt-demo"
name="$prefix/hello"
greeting="hello from a signed rkt pod"

step() { printf '\n==> %s\n' "$*"; }
skip() { printf 'skipped: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[ -x /bin/busybox ] || die "/bin/busybox is missing; run: bash scripts/setup.sh (installs busybox-static)"
command -v gpg >/dev/null || die "gpg is missing; run: bash scripts/setup.sh (installs gnupg)"
[ -f dist/bin/rkt.js ] || die "rkt is not built; run: bash scripts/build.sh"

# The rkt of this checkout, whether or not it is installed on PATH yet.
rkt_bin=(node "$repo/dist/bin/rkt.js")
rkt() {
  "${rkt_bin[@]}" --dir "$demo/data" --local-config "$demo/etc" \
    --system-config "$demo/lib" --user-config "$demo/user" "$@"
}

# Fresh demo state on every run, so the output always shows the whole story. The previous run's pods
# go through rkt gc first (their overlays, networks and cgroups live outside the directory), then any
# mount still under it is lazily detached so the removal cannot fail on a busy mount.
if [ -d "$demo/data" ]; then
  rkt gc --grace-period=0s --expire-prepared=0s >/dev/null 2>&1 || true
  awk -v d="$demo" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
fi
rm -rf --one-file-system "$demo"
mkdir -p "$demo"/{data,etc,lib,user,aci/rootfs/bin}
chmod 0700 "$demo"

step "building the sample image $name:1.0.0 from busybox-static"
cp /bin/busybox "$demo/aci/rootfs/bin/busybox"
for applet in sh echo cat ls id hostname sleep true; do ln -s busybox "$demo/aci/rootfs/bin/$applet"; done
cat > "$demo/aci/manifest" <<EOF
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "$name",
  "labels": [
    { "name": "version", "value": "1.0.0" },
    { "name": "os", "value": "linux" },
    { "name": "arch", "value": "amd64" }
  ],
  "app": {
    "exec": ["/bin/sh", "-c", "echo $greeting; echo \"uid=\$(id -u) hostname=\$(hostname)\""],
    "user": "0",
    "group": "0"
  }
}
EOF
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=pax \
    --pax-option=delete=atime,delete=ctime -C "$demo/aci" -cf "$demo/hello.aci" manifest rootfs
echo "built $demo/hello.aci ($(du -h "$demo/hello.aci" | cut -f1))"

step "creating a GnuPG signing key and signing the image"
export GNUPGHOME="$demo/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key "rkt demo signer <demo@example.com>" rsa3072 sign never 2>/dev/null
gpg --batch --quiet --armor --export "demo@example.com" > "$demo/pubkey.asc"
gpg --batch --quiet --armor --detach-sign --output "$demo/hello.aci.asc" "$demo/hello.aci"
gpg --batch --quiet --verify "$demo/hello.aci.asc" "$demo/hello.aci" 2>/dev/null
echo "key $(gpg --batch --with-colons --list-keys demo@example.com | awk -F: '$1 == "fpr" { print $10; exit }'), signature $demo/hello.aci.asc"

step "rkt trust --prefix $prefix (the demo key may sign only images under that prefix)"
rkt trust --prefix "$prefix" --skip-fingerprint-review "$demo/pubkey.asc"

step "rkt fetch: the signature is checked against the trusted key"
image_id="$(rkt fetch --full --signature "$demo/hello.aci.asc" "$demo/hello.aci")"
echo "$image_id"

step "rkt fetch of a tampered copy must be refused"
cp "$demo/hello.aci" "$demo/tampered.aci"
printf 'tampered' >> "$demo/tampered.aci"
if rkt fetch --signature "$demo/hello.aci.asc" "$demo/tampered.aci" > "$demo/tampered.out" 2>&1; then
  cat "$demo/tampered.out"
  die "rkt accepted an image whose signature does not match"
fi
echo "refused as expected: $(tail -n 1 "$demo/tampered.out")"

step "rkt image list"
rkt image list

# Runs the sample pod with one stage1 flavor, or says why it cannot.
run_pod() {
  local flavor="$1" aci="$repo/dist/stage1-images/stage1-$1.aci" out
  step "rkt run with the $flavor stage1"
  if [ ! -f "$aci" ]; then skip "dist/stage1-images/stage1-$flavor.aci is not built (bash scripts/build-stage1-images.sh $flavor)"; return 0; fi
  # --stage1-image=<flavor> picks a built-in stage1; no network is needed to print a
  # greeting, which keeps the demo independent of CNI setup
  local args=("--stage1-image=$flavor" --net=none)
  local start; start=$(date +%s.%N)
  if ! out="$(rkt run "${args[@]}" "$image_id" 2>&1)"; then
    printf '%s\n' "$out"
    die "rkt run with the $flavor stage1 failed"
  fi
  printf '%s\n' "$out"
  grep -q "$greeting" <<<"$out" || die "the $flavor pod did not print \"$greeting\""
  printf 'ok: the %s pod ran in %.1fs\n' "$flavor" "$(echo "$(date +%s.%N) - $start" | bc)"
}
run_pod nspawn
run_pod kvm

if command -v umoci >/dev/null && command -v skopeo >/dev/null && command -v docker-registry >/dev/null; then
  bash scripts/demo-oci.sh
else
  skip "the OCI sample needs umoci, skopeo and docker-registry (scripts/setup.sh installs them)"
fi

step "pods"
rkt list

printf '\ndemo finished. Its state is in %s; inspect it with:\n' "$demo"
printf '  rkt --dir %s/data --local-config %s/etc image list\n' "$demo" "$demo"
