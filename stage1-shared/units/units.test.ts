// Unit tests of the unit generator: quoting, env files, capabilities, seccomp, identity resolution inside
// an image (including symlinks that try to leave it) and the pod-level files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PodManifest } from '../../common/appc/index.js';
import {
  appCapabilities, appSandboxProperties, appSeccompFilter, appServiceUnit, appSliceUnit, buildAppUnitSpec, capabilityMask, cpuSharesToWeight,
  DEFAULT_APP_CAPABILITIES, DEFAULT_SECCOMP_DENY, execLine, parseEnvFile, podUnitFiles, quoteWord, renderEnvFile, renderUnit,
  resolveAppIdentity, type AppUnitSpec,
} from './index.js';

test('words are quoted for systemd, $ and % never expand', () => {
  assert.equal(quoteWord('/bin/sh'), '/bin/sh');
  assert.equal(quoteWord('a b'), '"a b"');
  assert.equal(quoteWord('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(execLine(['/bin/echo', '$HOME', '${X}']), '/bin/echo "$$HOME" "$${X}"');
  assert.match(renderUnit('t', { Service: [['ExecStart', '/bin/echo 100%']] }), /ExecStart=\/bin\/echo 100%%/);
  assert.match(renderUnit('t', { Service: [['ExecStop', '/x %i']] }, ['ExecStop']), /ExecStop=\/x %i$/m);
  // resource settings take no specifiers: a doubled % would be a parse error and the quota lost
  assert.match(renderUnit('t', { Slice: [['CPUQuota', '50%'], ['MemoryMax', '10%']] }), /^CPUQuota=50%\nMemoryMax=10%$/m);
});

test('env files round-trip values with quotes, dollars, backslashes and newlines', () => {
  const env = [{ name: 'A', value: 'x "y" $z \\ `w`' }, { name: 'B', value: 'two\nlines' }, { name: 'C', value: '' }];
  assert.deepEqual(parseEnvFile(renderEnvFile(env)), env);
  assert.throws(() => renderEnvFile([{ name: 'BAD-NAME', value: '' }]), /invalid environment variable name/);
});

test('capabilities: appc default set, retain-set, remove-set, disabled', () => {
  assert.equal(capabilityMask(DEFAULT_APP_CAPABILITIES), '00000000a80425fb');
  assert.deepEqual(appCapabilities('a', [], false), [...DEFAULT_APP_CAPABILITIES]);
  assert.deepEqual(appCapabilities('a', [{ name: 'os/linux/capabilities-retain-set', value: { set: ['CAP_NET_ADMIN'] } }], false), ['CAP_NET_ADMIN']);
  const removed = appCapabilities('a', [{ name: 'os/linux/capabilities-remove-set', value: { set: ['CAP_CHOWN'] } }], false);
  assert.equal(removed?.includes('CAP_CHOWN'), false);
  assert.equal(removed?.length, 13);
  assert.equal(appCapabilities('a', [], true), undefined);
});

test('seccomp: default deny list with EPERM, retain/remove sets, @appc.io/all, disabled', () => {
  const def = appSeccompFilter('a', [], false);
  assert.equal(def?.allowList, false);
  assert.ok(def?.syscalls.includes('@mount'));
  assert.equal(def?.errno, 'EPERM');
  assert.equal(appSeccompFilter('a', [], true), undefined);
  assert.equal(appSeccompFilter('a', [{ name: 'os/linux/seccomp-retain-set', value: { set: ['@appc.io/all'] } }], false), undefined);
  const keep = appSeccompFilter('a', [{ name: 'os/linux/seccomp-retain-set', value: { set: ['@rkt/default-whitelist', 'read'], errno: 'ENOSYS' } }], false);
  assert.deepEqual(keep, { allowList: true, syscalls: ['@system-service', 'read'], errno: 'ENOSYS' });
});

test('seccomp: appc wildcards and named sets at their edges', () => {
  const retain = (set: string[], errno?: string): ReturnType<typeof appSeccompFilter> =>
    appSeccompFilter('a', [{ name: 'os/linux/seccomp-retain-set', value: errno === undefined ? { set } : { set, errno } }], false);
  const remove = (set: string[], errno?: string): ReturnType<typeof appSeccompFilter> =>
    appSeccompFilter('a', [{ name: 'os/linux/seccomp-remove-set', value: errno === undefined ? { set } : { set, errno } }], false);
  // retaining nothing is deny-all (systemd's minimal @default only), never "no filter"
  assert.deepEqual(retain(['@appc.io/empty']), { allowList: true, syscalls: ['@default'] });
  assert.deepEqual(retain(['@appc.io/empty'], 'EACCES'), { allowList: true, syscalls: ['@default'], errno: 'EACCES' });
  // the empty set adds nothing to a union; "all" wins over anything beside it
  assert.deepEqual(retain(['@appc.io/empty', 'write']), { allowList: true, syscalls: ['write'] });
  assert.equal(retain(['read', '@appc.io/all']), undefined);
  // removing everything is deny-all; removing nothing keeps the default filter (as rkt read it)
  assert.deepEqual(remove(['@appc.io/all'], 'EPERM'), { allowList: true, syscalls: ['@default'], errno: 'EPERM' });
  const none = remove(['@appc.io/empty']);
  assert.equal(none?.allowList, false);
  assert.deepEqual(none?.syscalls, [...DEFAULT_SECCOMP_DENY]);
  assert.equal(none?.errno, 'EPERM');
  assert.equal(remove(['@appc.io/empty'], 'ENOSYS')?.errno, 'ENOSYS');
  // named sets: rkt's and docker's defaults, systemd groups in rkt's and systemd's spelling
  assert.deepEqual(remove(['@rkt/default-blacklist'])?.syscalls, [...DEFAULT_SECCOMP_DENY]);
  assert.deepEqual(retain(['@docker/default-whitelist'])?.syscalls, ['@system-service']);
  assert.deepEqual(retain(['@systemd/default-whitelist', '@systemd/network-io', '@io-event'])?.syscalls, ['@default', '@network-io', '@io-event']);
  assert.equal(remove(['socket'])?.errno, undefined, 'no errno: the kernel kills the caller with SIGSYS');
  assert.throws(() => retain(['@rkt/everything']), /invalid seccomp syscall "@rkt\/everything"/);
  assert.throws(() => retain(['@systemd/nonsense']), /invalid seccomp syscall/);
  assert.throws(() => retain(['read'], 'EWHATEVER'), /invalid seccomp errno "EWHATEVER"/);
  // both the filter and the unit: an allow-list never renders as an empty (resetting) SystemCallFilter=
  const props = appSandboxProperties({ ...baseSpec(), seccomp: { allowList: true, syscalls: ['@default'], errno: 'EPERM' } });
  assert.deepEqual(props.filter(([k]) => k.startsWith('SystemCall')), [
    ['SystemCallArchitectures', 'native'], ['SystemCallFilter', '@default'], ['SystemCallErrorNumber', 'EPERM'],
  ]);
  // Type=exec would need write(2) after the filter is in: a deny-all app starts as Type=simple
  assert.match(appServiceUnit({ ...baseSpec(), seccomp: { allowList: true, syscalls: ['@default'] } }, 'r.service'), /^Type=simple$/m);
  assert.match(appServiceUnit({ ...baseSpec(), seccomp: { allowList: true, syscalls: ['read'] } }, 'r.service'), /^Type=exec$/m);
});

test('cpu-shares: CPUShares= for cgroup v1 and CPUWeight= (systemd\'s scaling) for v2 on the app\'s slice', () => {
  assert.equal(cpuSharesToWeight(1024), 100);
  assert.equal(cpuSharesToWeight(12345), 1205);
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(262144), 10000);
  const slice = appSliceUnit({ ...baseSpec(), cpuShares: 512 }) ?? '';
  assert.match(slice, /^CPUShares=512$/m);
  assert.match(slice, /^CPUWeight=50$/m);
  assert.equal(appSliceUnit(baseSpec()), undefined);
});

function baseSpec(): AppUnitSpec {
  return {
    name: 'a', exec: ['/bin/true'], identity: { uid: 0, gid: 0, supplementaryGids: [] }, workingDirectory: '/', env: [],
    readOnlyRootfs: false, noNewPrivileges: true, restrictPaths: true, binds: [], interactive: false, preStart: [], postStop: [],
  };
}

async function imageRoot(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'units-test-'));
  await fs.mkdir(path.join(root, 'etc'));
  await fs.mkdir(path.join(root, 'bin'));
  await fs.writeFile(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\nweb:x:33:44:web:/var/www:/bin/false\n');
  await fs.writeFile(path.join(root, 'etc', 'group'), 'root:x:0:\nwww:x:44:\nstaff:x:50:\n');
  await fs.writeFile(path.join(root, 'bin', 'tool'), '');
  await fs.chown(path.join(root, 'bin', 'tool'), 1234, 5678);
  return root;
}

test('identity is resolved inside the image: names, numbers, file owners', async () => {
  const root = await imageRoot();
  try {
    const byName = await resolveAppIdentity({ rootfs: root, app: 'a', user: 'web', group: 'staff', supplementaryGids: [7, 7] });
    assert.deepEqual(byName, { uid: 33, gid: 50, supplementaryGids: [7], userName: 'web', home: '/var/www', shell: '/bin/false' });
    const byPath = await resolveAppIdentity({ rootfs: root, app: 'a', user: '/bin/tool', group: '/bin/tool', supplementaryGids: [] });
    assert.equal(byPath.uid, 1234);
    assert.equal(byPath.gid, 5678);
    assert.equal((await resolveAppIdentity({ rootfs: root, app: 'a', user: '4000', group: '4001', supplementaryGids: [] })).uid, 4000);
    await assert.rejects(resolveAppIdentity({ rootfs: root, app: 'a', user: 'nobody-here', group: '0', supplementaryGids: [] }), /no such user/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('an image whose /etc/passwd is a symlink to the host file resolves inside the image', async () => {
  const root = await imageRoot();
  try {
    await fs.rm(path.join(root, 'etc', 'passwd'));
    await fs.symlink('/etc/passwd', path.join(root, 'etc', 'passwd'));
    // /etc/passwd -> /etc/passwd inside the root is a loop, not the host's file
    await assert.rejects(resolveAppIdentity({ rootfs: root, app: 'a', user: 'root', group: '0', supplementaryGids: [] }), /no such user/);
    await fs.rm(path.join(root, 'etc', 'passwd'));
    await fs.symlink('../../../../../../etc/shadow-not-there', path.join(root, 'etc', 'passwd'));
    await assert.rejects(resolveAppIdentity({ rootfs: root, app: 'a', user: 'root', group: '0', supplementaryGids: [] }), /no such user/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('pod files: app units with the sandbox, default.target wanting apps in order, the reaper knowing the order', async () => {
  const root = await imageRoot();
  try {
    const pod: PodManifest = {
      acKind: 'PodManifest', acVersion: '0.8.11', volumes: [{ name: 'data', kind: 'empty' }], isolators: [], annotations: [], ports: [],
      apps: ['second', 'first'].map((name) => ({
        name, image: { id: `sha512-${'a'.repeat(128)}`, labels: [] }, annotations: [], mounts: [{ volume: 'data', path: '/data' }],
      })),
    };
    const image = {
      acKind: 'ImageManifest' as const, acVersion: '0.8.11', name: 'example.com/x', labels: [], annotations: [], dependencies: [], pathWhitelist: [],
      app: {
        exec: ['tool', 'arg with space'], user: 'web', group: 'www', supplementaryGIDs: [], eventHandlers: [], workingDirectory: '/',
        environment: [{ name: 'K', value: 'v' }], mountPoints: [], ports: [], isolators: [],
      },
    };
    const specs = [];
    for (const app of pod.apps) {
      specs.push(await buildAppUnitSpec({
        pod, app, image, appRootfs: root, diskShift: 0, disableCapabilities: false, disablePaths: false, disableSeccomp: false,
        interactive: false, etcBinds: [{ source: '/etc/hostname', target: '/etc/hostname' }], volumePath: (v) => `/rkt/volumes/${v}`,
      }));
    }
    assert.deepEqual(specs[0]?.exec, ['/bin/tool', 'arg with space']);
    const props = new Map(appSandboxProperties(specs[0]!).map(([k, v]) => [`${k}=${v}`, true]));
    for (const p of ['RootDirectory=/opt/stage2/second/rootfs', 'User=33', 'Group=44', 'NoNewPrivileges=yes', 'Slice=app-second.slice',
      'BindPaths=/rkt/volumes/data:/data', 'BindReadOnlyPaths=/etc/hostname:/etc/hostname', 'EnvironmentFile=/rkt/env/second']) {
      assert.ok(props.has(p), `missing ${p}`);
    }
    const files = new Map(podUnitFiles(specs).map((f) => [f.path, f.content]));
    assert.match(files.get('etc/systemd/system/default.target') ?? '', /Wants=app-second\.service app-first\.service rkt-ready\.service/);
    assert.match(files.get('usr/lib/rkt-units/reaper') ?? '', /for a in second first; do/);
    assert.match(files.get('etc/systemd/system/app-first.service') ?? '', /ExecStart=\/bin\/tool "arg with space"/);
    assert.deepEqual(parseEnvFile(files.get('rkt/env/first') ?? '').find((e) => e.name === 'AC_APP_NAME'), { name: 'AC_APP_NAME', value: 'first' });
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
