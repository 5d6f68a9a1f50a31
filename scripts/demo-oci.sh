#!/usr/bin/env bash
# The OCI half of the sample run (called by scripts/demo.sh, which made the GnuPG key): builds an OCI
# image with umoci, pushes it to a loopback registry (Debian's docker-registry) with skopeo, signing it
# the "simple signing" way into lookaside storage, trusts the key for the repository, fetches the image
# (signature verified, layers checked against their digests) and runs it with both stage1s.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
demo="${RKT_DEMO_DIR:-/var/tmp/rkt-demo}"
oci="$demo/oci"
greeting="hello from a signed OCI image"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo-oci: error: %s\n' "$*" >&2; exit 1; }
for c in umoci skopeo docker-registry gpg; do command -v "$c" >/dev/null || die "$c is missing; run: bash scripts/setup.sh"; done
[ -n "${GNUPGHOME:-}" ] || die "run from scripts/demo.sh (it makes the signing key)"
rkt() {
  node "$repo/dist/bin/rkt.js" --dir "$demo/data" --local-config "$demo/etc" \
    --system-config "$demo/lib" --user-config "$demo/user" "$@"
}

rm -rf "$oci"
mkdir -p "$oci"/{registry,lookaside,registries.d,bundle}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ref="127.0.0.1:$port/rkt-demo/hello"

step "starting a loopback registry (docker-registry) on 127.0.0.1:$port"
cat > "$oci/registry.yml" <<EOF2
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $oci/registry } }
http: { addr: 127.0.0.1:$port }
EOF2
docker-registry serve "$oci/registry.yml" > "$oci/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

step "building an OCI image with umoci (busybox, user nobody, an exposed port)"
umoci init --layout "$oci/layout"
umoci new --image "$oci/layout:1.0"
umoci unpack --image "$oci/layout:1.0" "$oci/bundle"
mkdir -p "$oci/bundle/rootfs/bin" "$oci/bundle/rootfs/etc"
cp /bin/busybox "$oci/bundle/rootfs/bin/busybox"
for applet in sh echo id; do ln -sf busybox "$oci/bundle/rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$oci/bundle/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$oci/bundle/rootfs/etc/group"
umoci repack --image "$oci/layout:1.0" "$oci/bundle"
umoci config --image "$oci/layout:1.0" --config.user nobody --config.entrypoint /bin/sh \
  --config.cmd -c --config.cmd "echo $greeting as \$(id -un)" --config.exposedports 8080/tcp

step "skopeo copy --sign-by: push to the registry, OpenPGP signature into lookaside storage"
fpr=$(gpg --batch --with-colons --list-keys demo@example.com | awk -F: '$1 == "fpr" { print $10; exit }')
cat > "$oci/registries.d/demo.yaml" <<EOF2
docker:
  127.0.0.1:$port:
    lookaside: file://$oci/lookaside
    lookaside-staging: file://$oci/lookaside
EOF2
skopeo --registries.d "$oci/registries.d" copy --quiet --dest-tls-verify=false --sign-by "$fpr" \
  "oci:$oci/layout:1.0" "docker://$ref:1.0"
mkdir -p "$demo/etc/registries.d"
cp "$oci/registries.d/demo.yaml" "$demo/etc/registries.d/"

step "rkt trust --prefix $ref"
rkt trust --prefix "$ref" --skip-fingerprint-review "$demo/pubkey.asc"

step "rkt fetch docker://$ref:1.0 (plain http on loopback: --insecure-options=http; the signature is still checked)"
image_id="$(rkt --insecure-options=http fetch --full "docker://$ref:1.0")"
echo "$image_id"
rkt image list

for flavor in nspawn kvm; do
  step "rkt run docker://$ref:1.0 with the $flavor stage1"
  start=$(date +%s.%N)
  out="$(rkt run --stage1-image="$flavor" --net=none "$image_id" 2>&1)" || { printf '%s\n' "$out"; die "the $flavor OCI pod failed"; }
  printf '%s\n' "$out"
  grep -q "$greeting as nobody" <<<"$out" || die "the $flavor OCI pod did not print \"$greeting as nobody\""
  printf 'ok: the %s OCI pod ran in %.1fs\n' "$flavor" "$(echo "$(date +%s.%N) - $start" | bc)"
done
