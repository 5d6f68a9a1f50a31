// The reaper script run for real (sh) against a fake systemctl, with /rkt moved into a temp dir: the
// status, the history line, and when it ends the pod (never in a mutable one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { podUnitFiles, REAPER_SCRIPT } from './index.js';
import { reaperScript } from './pod-units.js';
import { endedRunOf } from '../../common/stage1-contract.js';

const run = promisify(execFile);
const INV = '0123456789abcdef0123456789abcdef';

interface Fake {
  dir: string;
  rkt: string;
  /** Resolves to what the reaper wrote on stdout (the pod's journal). */
  reap(app: string, main: { code: number; status: number; startedAt?: number; result?: string }): Promise<string>;
  log(): Promise<string>;
}

async function fake(apps: string[], mutable: boolean): Promise<Fake> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reaper-'));
  const rkt = path.join(dir, 'rkt');
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(path.join(dir, 'reaper'), reaperScript(apps, mutable).replaceAll('/rkt/', `${rkt}/`));
  await fs.writeFile(path.join(bin, 'systemctl'), `#!/bin/sh
echo "$*" >> "${dir}/log"
case "$*" in
  *--value*) [ -n "$START" ] && echo "@$START" ;;
  show*) printf 'ExecMainCode=%s\\nExecMainStatus=%s\\nResult=%s\\nInvocationID=${INV}\\n' "$CODE" "$STATUS" "\${RESULT:-exit-code}" ;;
  is-system-running) echo running ;;
esac
exit 0
`, { mode: 0o755 });
  return {
    dir, rkt,
    async reap(app, main) {
      const r = await run('/bin/sh', [path.join(dir, 'reaper'), app, `app-${app}.service`], {
        env: { PATH: `${bin}:/usr/bin:/bin`, CODE: String(main.code), STATUS: String(main.status), START: main.startedAt === undefined ? '' : String(main.startedAt), RESULT: main.result ?? '' },
      });
      return r.stdout;
    },
    log: () => fs.readFile(path.join(dir, 'log'), 'utf8'),
  };
}

function history(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(' '));
}

test('mutable pod: status and a history line per run, the pod never ended', async () => {
  const f = await fake([], true);
  try {
    const t0 = Math.floor(Date.now() / 1000);
    await f.reap('a', { code: 1, status: 5, startedAt: t0 - 30 });
    const said = await f.reap('a', { code: 2, status: 15, startedAt: t0 - 10 });
    // the journal's end-of-run line that attach and CRI log copiers wait for
    assert.equal(endedRunOf(said), INV, said);
    assert.equal(await fs.readFile(path.join(f.rkt, 'status/a'), 'utf8'), '143\n');
    // OOM-killed: systemd's Result says so, whatever signal ended the main process
    await f.reap('o', { code: 2, status: 15, startedAt: t0 - 5, result: 'oom-kill' });
    assert.equal(await fs.readFile(path.join(f.rkt, 'status/o'), 'utf8'), '137\n');
    const h = history(await fs.readFile(path.join(f.rkt, 'history/a'), 'utf8'));
    assert.equal(h.length, 2);
    assert.deepEqual(h.map((l) => [l[0], l[2], l[3]]), [[String(t0 - 30), '5', INV], [String(t0 - 10), '143', INV]]);
    assert.ok(Number(h[1]?.[1]) >= t0, 'finished is now');
    assert.doesNotMatch(await f.log(), /exit/);
  } finally {
    await fs.rm(f.dir, { recursive: true, force: true });
  }
});

test('a run that never reached its main process starts when rkt app start asked for it, not at the last run\'s start', async () => {
  const f = await fake([], true);
  try {
    const t0 = Math.floor(Date.now() / 1000);
    await fs.mkdir(path.join(f.rkt, 'started'), { recursive: true });
    await fs.writeFile(path.join(f.rkt, 'started/a'), '2\n');
    await fs.utimes(path.join(f.rkt, 'started/a'), t0 - 5, t0 - 5);
    await f.reap('a', { code: 0, status: 0, startedAt: t0 - 100 });
    await f.reap('b', { code: 0, status: 0 });
    assert.equal(history(await fs.readFile(path.join(f.rkt, 'history/a'), 'utf8'))[0]?.[0], String(t0 - 5));
    assert.equal(await fs.readFile(path.join(f.rkt, 'status/a'), 'utf8'), '254\n');
    const b = history(await fs.readFile(path.join(f.rkt, 'history/b'), 'utf8'))[0];
    assert.equal(b?.[0], b?.[1], 'no start known: started = finished');
  } finally {
    await fs.rm(f.dir, { recursive: true, force: true });
  }
});

test('the reaper podUnitFiles writes is the mutable one only for a mutable pod', () => {
  const script = (mutable: boolean): string => podUnitFiles([], { mutable }).find((f) => `/${f.path}` === REAPER_SCRIPT)?.content ?? '';
  assert.equal(script(true), reaperScript([], true));
  assert.equal(script(false), reaperScript([], false));
  assert.notEqual(script(true), script(false));
});

test('ordinary pod: ends with the first failing app\'s code once every app has a status', async () => {
  const f = await fake(['a', 'b'], false);
  try {
    await f.reap('b', { code: 1, status: 6 });
    assert.doesNotMatch(await f.log(), /exit/, 'a has no status yet');
    await f.reap('a', { code: 1, status: 5 });
    assert.match(await f.log(), /--no-block exit 5\n$/);
    assert.equal(history(await fs.readFile(path.join(f.rkt, 'history/a'), 'utf8')).length, 1);
  } finally {
    await fs.rm(f.dir, { recursive: true, force: true });
  }
});
