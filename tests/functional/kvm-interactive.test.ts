// --interactive with the kvm stage1: the single app gets the user's terminal through the VM's serial
// console (typed input reaches it, its exit code comes back). A pty comes from util-linux's script(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { rktBin } from '../harness/aci.js';
import { kvmStage1Aci, makeKvmHarness, skipReason } from './kvm-helpers.js';

const skip = skipReason();

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

test('kvm: --interactive gives the app the terminal: it reads a typed line and its exit code is rkt run\'s', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('ask', ['/bin/sh', '-c', 'echo ready-for-input; read x; echo "got:$x"; exit 3']);
    const cmd = [process.execPath, rktBin(), ...h.dirs.globalArgs(), '--insecure-options=image', 'run', '--interactive',
      `--stage1-path=${kvmStage1Aci()}`, img].map(shellQuote).join(' ');
    const child = execa('script', ['-qec', cmd, '/dev/null'], { reject: false, timeout: 180_000 });
    let out = '';
    let typed = false;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!typed && out.includes('ready-for-input')) {
        typed = true;
        child.stdin?.write('abc\r');
      }
    });
    const r = await child;
    assert.equal(r.exitCode, 3, out);
    assert.match(out, /got:abc/);
  } finally {
    await h.teardown();
  }
});
