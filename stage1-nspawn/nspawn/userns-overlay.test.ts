// --private-users over a pod whose app tree is an OCI layer stack: every lower is ID-mapped on its own and
// the overlay re-made over all of them, with the layers' whiteouts and opaque dirs still in force.
// Needs root, a C compiler (for the stage1's idmap-bind helper) and python3 (to set trusted.* xattrs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMounts } from '../../common/mountinfo.js';
import { finishIdmappedOverlays, idmapPodOverlays } from './userns-overlay.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const helperSource = path.resolve(here, '../../../stage1-nspawn/image-build/src/idmap-bind.c');

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = process.getuid?.() !== 0 ? 'needs root'
  : !has('cc') ? 'needs a C compiler'
    : !has('python3') ? 'needs python3 (setxattr)'
      : !fs.existsSync(helperSource) ? 'idmap-bind source not found' : false;

const SHIFT = 1_000_000;
const COUNT = 65536;

function mountsBelow(dir: string): Promise<string[]> {
  return readMounts().then((ms) => ms.map((m) => m.target).filter((t) => t === dir || t.startsWith(dir + '/')));
}

async function unmountBelow(dir: string): Promise<void> {
  for (const m of (await mountsBelow(dir)).sort((a, b) => b.length - a.length)) execFileSync('umount', ['-l', m]);
}

function mountOverlay(target: string, lowers: string[], upper: string, work: string): void {
  for (const d of [target, upper, work]) fs.mkdirSync(d, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`, target]);
}

test('idmapped overlays: each OCI layer is mapped, whiteouts and opaque dirs still apply', { skip }, async (t) => {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-userns-layers-')));
  const pod = path.join(tmp, 'pod');
  try {
    // the stage1 tree, as stage0 renders it: one lower with the helper in it
    const s1 = path.join(tmp, 'store', 'stage1', 'rootfs');
    fs.mkdirSync(path.join(s1, 'stage1', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(s1, 'opt', 'stage2'), { recursive: true });
    execFileSync('cc', ['-O2', '-o', path.join(s1, 'stage1', 'bin', 'idmap-bind'), helperSource]);

    // two image layers in overlayfs' on-disk format: the upper one deletes /etc/gone (whiteout), makes /data
    // opaque (its lower entries vanish) and adds a file
    const base = path.join(tmp, 'store', 'layers', 'sha256-base', 'rootfs');
    const top = path.join(tmp, 'store', 'layers', 'sha256-top', 'rootfs');
    fs.mkdirSync(path.join(base, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(base, 'data'), { recursive: true });
    fs.writeFileSync(path.join(base, 'etc', 'gone'), 'base\n');
    fs.writeFileSync(path.join(base, 'etc', 'kept'), 'base\n');
    fs.writeFileSync(path.join(base, 'data', 'old'), 'base\n');
    fs.chownSync(path.join(base, 'etc', 'kept'), 7, 8);
    fs.mkdirSync(path.join(top, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(top, 'data'), { recursive: true });
    execFileSync('mknod', [path.join(top, 'etc', 'gone'), 'c', '0', '0']);
    execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")', path.join(top, 'data')]);
    fs.writeFileSync(path.join(top, 'data', 'new'), 'top\n');
    fs.writeFileSync(path.join(top, 'added'), 'top\n');

    const appTarget = 'stage1/rootfs/opt/stage2/web/rootfs';
    const layers = [
      { name: 'stage1', target: 'stage1/rootfs', lower: s1 },
      { name: 'app-web', target: appTarget, lower: top, lowers: [top, base] },
    ];
    fs.mkdirSync(pod, { recursive: true });
    fs.writeFileSync(path.join(pod, 'overlay-layers.json'), JSON.stringify(layers));
    // what stage0 mounted at prepare time (host ownership)
    mountOverlay(path.join(pod, 'stage1/rootfs'), [s1], path.join(pod, 'overlay/stage1/upper'), path.join(pod, 'overlay/stage1/work'));
    mountOverlay(path.join(pod, appTarget), [top, base], path.join(pod, 'overlay/app-web/upper'), path.join(pod, 'overlay/app-web/work'));
    // stage0 wrote into the app tree through the overlay: lands in the upper dir as host root
    fs.writeFileSync(path.join(pod, appTarget, 'etc', 'written'), 'stage0\n');

    let ok: boolean;
    try {
      ok = await idmapPodOverlays(pod, SHIFT, COUNT);
    } catch (err) {
      if (/ID-mapped overlay|mount_setattr|open_tree/.test(String(err))) {
        t.skip(`kernel cannot overlay ID-mapped layers: ${String(err)}`);
        return;
      }
      throw err;
    }
    assert.equal(ok, true);
    await finishIdmappedOverlays(pod, SHIFT, COUNT);

    const mounts = await mountsBelow(pod);
    for (const i of [0, 1]) assert.ok(mounts.includes(path.join(pod, 'overlay/app-web', `idmapped-${i}`)), `lower ${i} is not ID-mapped: ${mounts.join(' ')}`);
    // the single-lower overlay keeps its one mapped path
    assert.ok(mounts.includes(path.join(pod, 'overlay/stage1/idmapped')));
    assert.ok(!mounts.includes(path.join(pod, 'overlay/app-web/idmapped')));

    const app = path.join(pod, appTarget);
    assert.equal(fs.existsSync(path.join(app, 'etc', 'gone')), false, 'the whiteout no longer hides /etc/gone');
    assert.equal(fs.readFileSync(path.join(app, 'etc', 'kept'), 'utf8'), 'base\n');
    assert.deepEqual(fs.readdirSync(path.join(app, 'data')), ['new'], 'the opaque /data shows lower entries');
    assert.equal(fs.readFileSync(path.join(app, 'added'), 'utf8'), 'top\n');
    // both layers appear in the pod's range; the store's trees are untouched
    assert.equal(fs.statSync(path.join(app, 'added')).uid, SHIFT);
    assert.deepEqual([fs.statSync(path.join(app, 'etc', 'kept')).uid, fs.statSync(path.join(app, 'etc', 'kept')).gid], [SHIFT + 7, SHIFT + 8]);
    assert.equal(fs.statSync(path.join(app, 'etc', 'written')).uid, SHIFT);
    assert.equal(fs.statSync(path.join(base, 'etc', 'kept')).uid, 7);
    assert.equal(fs.statSync(path.join(top, 'added')).uid, 0);
    assert.equal(fs.statSync(path.join(s1, 'stage1', 'bin', 'idmap-bind')).uid, 0);
    assert.equal(fs.statSync(path.join(pod, 'stage1/rootfs/stage1/bin/idmap-bind')).uid, SHIFT);
    // a write through the re-made overlay copies up from the mapped layer, nothing reaches the store
    fs.appendFileSync(path.join(app, 'etc', 'kept'), 'more\n');
    assert.equal(fs.readFileSync(path.join(base, 'etc', 'kept'), 'utf8'), 'base\n');
  } finally {
    await unmountBelow(pod).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
