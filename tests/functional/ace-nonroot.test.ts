// The built CLI run as an unprivileged user (nobody, via setpriv): the commands rkt kept for root fail with
// one line and exit 254 before touching anything; the others do not fail for that reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RKT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/rkt.js');
const NOBODY = 65534;
const UUID = '11111111-2222-4333-8444-555555555555';

function skip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (to switch to nobody)';
  return ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p)) ? false : 'setpriv not installed';
}

async function asNobody(dir: string, args: readonly string[]): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa('setpriv', [
    `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, RKT,
    '--dir', path.join(dir, 'data'), '--local-config', path.join(dir, 'local'), '--system-config', path.join(dir, 'system'),
    '--user-config', path.join(dir, 'user'), ...args,
  ], { reject: false, cwd: dir, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

test('run, prepare, run-prepared, enter, gc and rm refuse an unprivileged user', { skip: skip() }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-nonroot-'));
  await fs.chmod(dir, 0o755);
  try {
    const cases: [string, string[]][] = [
      ['run', ['run', '--insecure-options=image', 'example.com/app']],
      ['prepare', ['prepare', 'example.com/app']],
      ['run-prepared', ['run-prepared', UUID]],
      ['enter', ['enter', UUID]],
      ['gc', ['gc']],
      ['rm', ['rm', UUID]],
    ];
    for (const [cmd, args] of cases) {
      const r = await asNobody(dir, args);
      assert.equal(r.exitCode, 254, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^${cmd}: cannot run as unprivileged user: "rkt ${cmd}" needs root`, 'm'), r.stderr);
    }
    // nothing was created on the way
    assert.equal(existsSync(path.join(dir, 'data')), false);
    // a usage error is still a usage error
    const bad = await asNobody(dir, ['gc', '--no-such-flag']);
    assert.equal(bad.exitCode, 2, bad.stderr);
    // commands rkt left to file permissions do not fail for being unprivileged
    for (const args of [['version'], ['status', UUID], ['image', 'list']]) {
      const r = await asNobody(dir, args);
      assert.doesNotMatch(r.stderr, /unprivileged/, `${args.join(' ')}: ${r.stderr}`);
    }
    const v = await asNobody(dir, ['version']);
    assert.equal(v.exitCode, 0, v.stderr);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
