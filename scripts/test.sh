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
# Functional files run in three groups, so a 2-core machine stays busy without two VMs or two host-state
# checks at once: the kvm files in one lane beside the other files in a second lane, then, alone, the
# files that compare the host's whole network state before and after (a neighbour's pod would show up
# there as a leak). Each lane's lines carry its name.
exclusive_re='/(net-teardown-cli|net-cycles|net-conflist|kvm-net|app-mutable)\.test\.js$'
vm_lane_re='/(kvm-[a-z-]+|oci-run-kvm|net-kvm-guest|cri-endpoint|pod-tampering|exe-escape)\.test\.js$'
lane_a=() lane_b=() alone=()
for f in "${files[@]}"; do
  if [[ "$f" =~ $exclusive_re ]]; then alone+=("$f")
  elif [[ "$f" =~ $vm_lane_re ]]; then lane_b+=("$f")
  else lane_a+=("$f"); fi
done
run_group() { # NAME FILE...
  local name="$1"; shift
  [ "$#" -gt 0 ] || return 0
  set -o pipefail
  node --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | sed -u "s/^/[$name] /"
}
node_rc=0
run_group main "${lane_a[@]}" & pid_a=$!
run_group vm "${lane_b[@]}" & pid_b=$!
wait "$pid_a" || node_rc=$?
wait "$pid_b" || node_rc=$?
run_group alone "${alone[@]}" || node_rc=$?
if [ "$vm_rc" -ne 0 ]; then echo "test-vm failed (status $vm_rc); see .cache/test-vm/last/" >&2; exit "$vm_rc"; fi
exit "$node_rc"
