#!/usr/bin/env bash
# Compiles the native addon (flock/execve) and the TypeScript tree into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
gyp="$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f native/build/Release/rkt_native.node ] || [ native/src/rkt_native.c -nt native/build/Release/rkt_native.node ]; then
  (cd native && node "$gyp" rebuild --nodedir=/usr >/dev/null)
fi
npx tsc -p tsconfig.json
for d in stage0/cri/proto stage0/api/proto; do mkdir -p "dist/$d" && cp "$d"/*.proto "dist/$d/"; done
chmod +x dist/bin/rkt.js
# The tests' socket-activated app (static: test images carry no libc).
# The tests' static C programs (they run inside pods whose images have no libc).
for fixture in sd-echo exe-grab; do
  if [ ! -f "dist/tests/fixtures/$fixture" ] || [ "tests/fixtures/$fixture.c" -nt "dist/tests/fixtures/$fixture" ]; then
    mkdir -p dist/tests/fixtures && gcc -static -O1 -o "dist/tests/fixtures/$fixture" "tests/fixtures/$fixture.c"
  fi
done
