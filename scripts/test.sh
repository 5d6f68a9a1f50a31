#!/usr/bin/env bash
# Runs the test suite with node's test runner over the compiled tree.
#   scripts/test.sh            unit + functional
#   scripts/test.sh unit       unit tests only (next to the code they test)
#   scripts/test.sh functional functional tests only (tests/, running the built rkt binary)
#   scripts/test.sh vm         only the tests that need systemd as PID 1, inside the test VM
# `all` runs the test VM first, then unit + functional tests; any failure fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
# Builds what is missing first (packages, node_modules, dist/, kernel, stage1 images; all
# cached), so a clean clone can run this directly; unit tests need only the build.
if [ "$which" = unit ]; then bash scripts/ensure-prereqs.sh --build; else bash scripts/ensure-prereqs.sh; fi
files=()
if [ "$which" = all ] || [ "$which" = unit ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find dist/common dist/stage0 dist/stage1-shared dist/stage1-nspawn dist/stage1-kvm -name '*.test.js' 2>/dev/null | sort)
fi
if [ "$which" = all ] || [ "$which" = functional ]; then
  # dist/tests/vm/ runs inside the test VM (test-vm/run.sh), not here.
  while IFS= read -r f; do files+=("$f"); done < <(find dist/tests -path dist/tests/vm -prune -o -name '*.test.js' -print 2>/dev/null | sort)
fi
vm_rc=0
if [ "$which" = all ] || [ "$which" = vm ]; then
  echo "== test-vm: machined registration and journalctl -M inside a VM whose PID 1 is systemd =="
  bash test-vm/run.sh || vm_rc=$?
  echo "== test-vm finished with status $vm_rc =="
  if [ "$which" = vm ]; then exit "$vm_rc"; fi
fi
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
node_rc=0
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}" || node_rc=$?
if [ "$vm_rc" -ne 0 ]; then echo "test-vm failed (status $vm_rc); see .cache/test-vm/last/" >&2; exit "$vm_rc"; fi
exit "$node_rc"
