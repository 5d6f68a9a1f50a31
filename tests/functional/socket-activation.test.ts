// Socket activation: `rkt run` started by a socket activator (systemd-socket-activate, the tool systemd ships
// for exactly this: it listens, and on the first connection runs the command with LISTEN_FDS, as a .socket
// unit does) hands the listening socket to the app through the pod's systemd. The app is a small static C
// program (tests/fixtures/sd-echo.c, built by scripts/build.sh) that accepts on fd 3 and says what it got.
// The test VM proves the same with a real .socket unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeAciDir, rktBin } from '../harness/aci.js';
import { kvmStage1Aci, makeKvmHarness, skipReason as kvmSkip } from './kvm-helpers.js';
import { freePort } from './net-helpers.js';
import { makeNspawnHarness, nspawnStage1Aci, skipReason as nspawnSkip, type NspawnHarness } from './nspawn-helpers.js';


const SD_ECHO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sd-echo');

const skip = ((): string | false => {
  const s = nspawnSkip();
  if (s) return s;
  const which = (b: string): boolean => fs.existsSync(`/usr/bin/${b}`);
  if (!which('systemd-socket-activate')) return 'systemd-socket-activate is not installed';
  if (!fs.existsSync(SD_ECHO)) return `${SD_ECHO} is not built (scripts/build.sh)`;
  return false;
})();

/** An ACI whose app accepts on the passed socket; its port `http` is marked socketActivated when `declared`. */
async function echoImage(h: NspawnHarness, declared: boolean): Promise<string> {
  const ports = declared ? [{ name: 'http', protocol: 'tcp', port: 8080, socketActivated: true }] : [];
  const dir = await makeAciDir({
    name: `example.com/sd-echo-${declared ? 'declared' : 'plain'}`, version: '1.0.0', busybox: true, parent: h.dirs.root,
    files: { 'sd-echo': { content: fs.readFileSync(SD_ECHO), mode: 0o755 } },
    manifestExtra: { app: { exec: ['/sd-echo'], user: '0', group: '0', ports } },
  });
  const out = path.join(h.dirs.root, `sd-echo-${declared ? 'declared' : 'plain'}.aci`);
  await execa('tar', ['-C', dir, '-cf', out, 'manifest', 'rootfs']);
  return out;
}

/** One connection's whole answer, retried while the activator is not listening yet. */
async function ask(port: number, timeoutMs: number): Promise<string> {
  // an answer that never came reads as the error's text, so the assertion shows rkt's output beside it
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await new Promise<string | Error>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let text = '';
      s.setTimeout(timeoutMs);
      s.on('data', (d) => (text += d.toString()));
      s.on('end', () => resolve(text));
      s.on('timeout', () => { s.destroy(); resolve(new Error('timeout')); });
      s.on('error', (e) => resolve(e));
    });
    if (typeof answer === 'string') return answer;
    if (Date.now() > deadline) return `no answer: ${answer.message}`;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One connection that only wakes the activator up (rkt is expected to refuse the sockets). */
async function poke(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function activate(h: NspawnHarness, port: number, fdName: string, stage1: string, runArgs: string[]): ReturnType<typeof execa> {
  return execa('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, `--fdname=${fdName}`, '--',
    process.execPath, rktBin(), ...h.dirs.globalArgs(), '--insecure-options=image', 'run', `--stage1-path=${stage1}`, ...runArgs], { reject: false, all: true });
}

async function podUuids(h: NspawnHarness): Promise<string[]> {
  const r = await h.rkt(['list', '--no-legend', '--full']);
  return r.stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter((u) => u !== '');
}

test('nspawn: rkt run started by a socket activator hands the socket to the app, by port name; OCI-style ports are marked with --socket-activated-port', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    for (const [declared, extra] of [[true, []], [false, ['--socket-activated-port=8080']]] as const) {
      const image = await echoImage(h, declared);
      const port = await freePort();
      const fdName = declared ? 'http' : '8080-tcp';
      const activator = activate(h, port, fdName, nspawnStage1Aci(), [image, ...extra]);
      let answers: string[];
      try {
        // the first connection starts the pod; its app answers on the inherited socket, and so on every later one
        answers = [await ask(port, 120_000), await ask(port, 30_000)];
      } finally {
        for (const uuid of await podUuids(h)) await h.rkt(['stop', '--force', uuid]);
        activator.kill('SIGTERM');
      }
      const r = await activator;
      assert.deepEqual(answers, Array(2).fill(`hello from the pod: LISTEN_FDS=1 LISTEN_FDNAMES=${fdName}\n`), String(r.all));
    }
  } finally {
    await h.teardown();
  }
});

test('nspawn: a passed socket named after no socket-activated port is refused in one line, and nothing is left running', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const image = await echoImage(h, true);
    const port = await freePort();
    const activator = activate(h, port, 'metrics', nspawnStage1Aci(), [image]);
    await poke(port);
    const r = await activator;
    assert.equal(r.exitCode, 254, String(r.all));
    assert.match(String(r.all), /the socket named "metrics" passed by the service manager matches no socket-activated port \(ports: sd-echo-declared\/http\)/);
    assert.equal((await h.rkt(['list', '--no-legend'])).stdout.match(/running/g), null);
  } finally {
    await h.teardown();
  }
});

test('kvm: a socket-activated rkt run is refused with the reason (a VM cannot take host sockets)', { skip: kvmSkip() || skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const image = await echoImage(h, true);
    const port = await freePort();
    const activator = activate(h, port, 'http', kvmStage1Aci(), [image]);
    await poke(port);
    const r = await activator;
    assert.equal(r.exitCode, 254, String(r.all));
    assert.match(String(r.all), /the kvm stage1 cannot hand host sockets to a VM/);
  } finally {
    await h.teardown();
  }
});
