// appc executor conformance, nspawn stage1: isolators given on the command line are enforced and visible
// from inside the app (capability bounding set, seccomp with errno, OOM score, cgroup limits), the
// default capabilities and seccomp filter apply without flags, and --insecure-options lifts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { journalMessages, makeNspawnHarness, nspawnStage1Aci, skipReason, type NspawnHarness } from './nspawn-helpers.js';

const skip = skipReason();

const PROBE = [
  'grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status',
  'echo "oom=$(cat /proc/self/oom_score_adj)"',
  'cg=/sys/fs/cgroup$(dirname "$(sed -n "s/^0:://p" /proc/self/cgroup)")',
  'echo "memory.max=$(cat $cg/memory.max 2>/dev/null)" "cpu.max=$(cat $cg/cpu.max 2>/dev/null)"',
  'if e=$(mkdir /probe-dir 2>&1); then echo mkdir=ok; else echo "mkdir=$e"; fi',
  'if sethostname=$(hostname probe 2>&1); then echo hostname=ok; else echo "hostname=$sethostname"; fi',
].join('; ');

function cgroup2Controllers(): string[] {
  for (const f of ['/sys/fs/cgroup/cgroup.controllers', '/sys/fs/cgroup/unified/cgroup.controllers']) {
    if (fs.existsSync(f)) return fs.readFileSync(f, 'utf8').trim().split(/\s+/);
  }
  return [];
}

/** Each probe's stderr, by app name: where stage0's warnings land. */
const stderrOf = new Map<string, string>();

/** stage0's lines saying this host cannot enforce the limits. */
const limitWarnings = (name: string): string[] => (stderrOf.get(name) ?? '').split('\n').filter((l) => /limits cannot be enforced on this host/.test(l));

async function probe(
  h: NspawnHarness, name: string, globals: readonly string[], appFlags: readonly string[], script = PROBE, exitCode = 0,
): Promise<string> {
  const img = await h.image(name, ['/bin/sh', '-c', script], { manifestExtra: { app: { exec: ['/bin/sh', '-c', script], user: '0', group: '0' } } });
  // global flags go before the command
  const uuidFile = path.join(h.dirs.root, `uuid-${name}`);
  const r = await h.rkt([...globals, 'run', `--stage1-path=${nspawnStage1Aci()}`, `--uuid-file-save=${uuidFile}`, '--net=host', img, ...appFlags], { timeoutMs: 120_000 });
  assert.equal(r.exitCode, exitCode, r.stderr + r.stdout);
  stderrOf.set(name, r.stderr);
  const uuid = fs.readFileSync(uuidFile, 'utf8').trim();
  const unitDir = path.join(h.findPodDir(uuid), 'stage1/rootfs/etc/systemd/system');
  const slice = path.join(unitDir, `app-${name}.slice`);
  const unit = fs.readFileSync(path.join(unitDir, `app-${name}.service`), 'utf8') + (fs.existsSync(slice) ? fs.readFileSync(slice, 'utf8') : '');
  return (await journalMessages(h.findPodDir(uuid), uuid, name)).join('\n') + '\n' + unit;
}

test('--caps-retain, --seccomp remove with errno, --oom-score-adj, --memory and --cpu are enforced in the app', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const out = await probe(h, 'isolated', [], [
      '--caps-retain=CAP_NET_BIND_SERVICE', '--seccomp=mode=remove,errno=EPERM,mkdir,mkdirat', '--oom-score-adj=500',
      '--memory=64Mi', '--cpu=500m',
    ]);
    assert.match(out, /CapBnd:\s+0000000000000400/);
    assert.match(out, /Seccomp:\s+2/);
    assert.match(out, /oom=500/);
    // the limits sit on the app's slice; they take effect where the host's cgroup2 tree has the controllers
    // (a hybrid-cgroup host keeps memory and cpu on v1, out of the pod's reach)
    assert.match(out, /^MemoryMax=67108864$/m);
    assert.match(out, /^CPUQuota=50%$/m, 'a single %: systemd reads CPUQuota= without specifiers');
    if (cgroup2Controllers().includes('memory')) assert.match(out, /memory\.max=67108864/);
    if (cgroup2Controllers().includes('cpu')) assert.match(out, /cpu\.max=50000 100000/);
    // and where they cannot take effect, rkt says so once instead of leaving the app silently unlimited
    const absent = (['memory', 'cpu'] as const).filter((c) => !cgroup2Controllers().includes(c));
    if (absent.length > 0) {
      const warnings = limitWarnings('isolated');
      assert.equal(warnings.length, 1, stderrOf.get('isolated'));
      for (const c of absent) assert.match(warnings[0] ?? '', new RegExp(`no ${c} controller: `));
    }
    assert.match(out, /mkdir=.*Operation not permitted/);
  } finally {
    await h.teardown();
  }
});

test('--caps-remove drops one capability; --seccomp retain allows only the listed set', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const out = await probe(h, 'retained', [], ['--caps-remove=CAP_CHOWN', '--seccomp=mode=retain,errno=ENOSYS,@rkt/default-whitelist']);
    // appc's default set (0xa80425fb) without CAP_CHOWN (bit 0)
    assert.match(out, /CapBnd:\s+00000000a80425fa/);
    assert.match(out, /Seccomp:\s+2/);
    // sethostname is outside systemd's @system-service set
    assert.match(out, /hostname=.*(not implemented|Function not implemented)/i);
  } finally {
    await h.teardown();
  }
});

test('defaults apply without flags; --insecure-options=capabilities,seccomp,paths lifts them', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const def = await probe(h, 'defaults', [], []);
    assert.deepEqual(limitWarnings('defaults'), [], 'no limits, no warning');
    assert.match(def, /CapBnd:\s+00000000a80425fb/);
    assert.match(def, /Seccomp:\s+2/);
    const open = await probe(h, 'insecure', ['--insecure-options=image,capabilities,seccomp,paths'], []);
    assert.match(def, /^SystemCallFilter=~/m);
    assert.match(def, /^InaccessiblePaths=/m);
    assert.match(def, /mkdir=ok/);
    // nspawn's own container-wide filter stays (as with rkt); the app's own filter and path rules go
    assert.match(open, /CapBnd:\s+000001fffeffffff|CapBnd:\s+000000fffeffffff|CapBnd:\s+0000003fffffffff/);
    assert.doesNotMatch(open, /^SystemCallFilter=/m);
    assert.doesNotMatch(open, /^InaccessiblePaths=/m);
  } finally {
    await h.teardown();
  }
});

// The app's cgroup in each hierarchy the pod sees: cgroup2 ("0::") and cgroup v1 cpu ("N:cpu,cpuacct:" or "N:cpu:").
const CPU_PROBE = [
  'cat /proc/self/cgroup',
  'v2=$(sed -n "s/^0:://p" /proc/self/cgroup)',
  'echo "cpu.weight=$(cat /sys/fs/cgroup$v2/cpu.weight 2>/dev/null || cat /sys/fs/cgroup/unified$v2/cpu.weight 2>/dev/null)"',
  'v1=$(sed -n "s/^[0-9]*:[a-z,]*cpu[,:].*:\\(.*\\)$/\\1/p; s/^[0-9]*:cpu:\\(.*\\)$/\\1/p" /proc/self/cgroup | head -n1)',
  'for d in /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/cpu; do [ -f "$d$v1/cpu.shares" ] && echo "cpu.shares=$(cat $d$v1/cpu.shares)" && break; done; true',
].join('; ');

test('--cpu-shares: CPUShares= (cgroup v1) and CPUWeight= (v2) on the app slice, enforced where the pod has cpu', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const out = await probe(h, 'shares', [], ['--cpu-shares=512'], CPU_PROBE);
    assert.match(out, /^CPUShares=512$/m);
    assert.match(out, /^CPUWeight=50$/m);
    if (/^cpu\.weight=\d+$/m.test(out)) assert.match(out, /^cpu\.weight=50$/m);
    if (/^cpu\.shares=\d+$/m.test(out)) assert.match(out, /^cpu\.shares=512$/m);
  } finally {
    await h.teardown();
  }
});

test('--seccomp retain of @appc.io/empty refuses every call beyond exec and exit; remove of @appc.io/all too', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    // "echo" needs write(2), outside the minimal set: with errno the app sees EPERM and exits 7 on its own
    const script = 'echo "out=$((6*7))" || exit 7';
    const empty = await probe(h, 'denyall', [], ['--seccomp=mode=retain,errno=EPERM,@appc.io/empty'], script, 7);
    assert.match(empty, /^SystemCallFilter=@default$/m);
    assert.match(empty, /^SystemCallErrorNumber=EPERM$/m);
    assert.doesNotMatch(empty, /out=42/);
    const all = await probe(h, 'removeall', [], ['--seccomp=mode=remove,errno=EACCES,@appc.io/all'], script, 7);
    assert.match(all, /^SystemCallFilter=@default$/m);
    assert.doesNotMatch(all, /out=42/);
    // without errno the kernel kills the app with SIGSYS at its first refused call
    const killed = await probe(h, 'sigsys', [], ['--seccomp=mode=retain,@appc.io/empty'], script, 159);
    assert.doesNotMatch(killed, /out=42/);
  } finally {
    await h.teardown();
  }
});
