// rkt trust + rkt fetch of local files with real GnuPG keys: what is accepted, what is
// refused and why (unsigned, tampered, untrusted, wrong prefix, masked), parents and --root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeGpgHome, type GpgHome, type GpgKey } from '../harness/gpg.js';
import { openStore } from '../../stage0/store/index.js';
import { execa } from 'execa';
import { RKT_BIN, makeFetchEnv, writeTinyAci, type FetchEnv } from '../harness/fetch-env.js';

let gpg: GpgHome;
let rsa: GpgKey;
let ed: GpgKey;
let e: FetchEnv;
let rsaPub: string;
let edPub: string;

before(async () => {
  gpg = await makeGpgHome();
  rsa = await gpg.genKey('RSA Publisher <rsa@example.com>', 'rsa');
  ed = await gpg.genKey('Ed Publisher <ed@example.com>', 'ed25519');
  e = await makeFetchEnv();
  rsaPub = await rsa.exportPublic(path.join(e.root, 'rsa.pub.asc'));
  edPub = await ed.exportPublic(path.join(e.root, 'ed.pub.asc'));
});

after(async () => {
  await gpg?.cleanup();
  await e?.cleanup();
});

/** A fresh signed image in its own folder; each test gets its own config dirs too. */
async function fresh(name: string, signer?: GpgKey, gzip = false): Promise<{ env: FetchEnv; aci: string }> {
  const env = await makeFetchEnv();
  const aci = await writeTinyAci(path.join(env.root, 'image.aci'), { name, labels: { version: '1.0' }, gzip });
  if (signer) await signer.sign(aci);
  return { env, aci };
}

async function trust(env: FetchEnv, args: string[]): Promise<void> {
  const r = await env.rkt(['trust', '--skip-fingerprint-review', ...args]);
  assert.equal(r.exitCode, 0, r.stderr);
}

test('trusted prefix key: fetch verifies and prints the signer, RSA and ed25519', async () => {
  for (const [key, pub] of [[rsa, rsaPub], [ed, edPub]] as const) {
    const { env, aci } = await fresh('example.com/app', key, true);
    try {
      const t = await env.rkt(['trust', '--skip-fingerprint-review', '--prefix=example.com/app', pub]);
      assert.equal(t.exitCode, 0, t.stderr);
      assert.match(t.stdout, new RegExp(`Added key for prefix "example.com/app" at ".*/trustedkeys/prefix.d/example.com/app/${key.fingerprint}"`));
      const r = await env.rkt(['fetch', aci]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout.trim(), /^sha512-[0-9a-f]{32}$/);
      assert.match(r.stderr, new RegExp(`signature verified:\\n  ${key.uid}`));
      const full = await env.rkt(['fetch', '--full', aci]);
      assert.match(full.stdout.trim(), /^sha512-[0-9a-f]{64}$/);
      assert.ok(full.stdout.startsWith(r.stdout.trim()));
    } finally {
      await env.cleanup();
    }
  }
});

test('unsigned image is refused with a hint; --insecure-options=image fetches it with a warning', async () => {
  const { env, aci } = await fresh('example.com/app');
  try {
    await trust(env, ['--prefix=example.com/app', rsaPub]);
    const r = await env.rkt(['fetch', aci]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /is not signed: no signature found at .*image\.aci\.asc/);
    assert.match(r.stderr, /--insecure-options=image/);
    const ok = await env.rkt(['--insecure-options=image', 'fetch', aci]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stderr, /signature verification is disabled/);
  } finally {
    await env.cleanup();
  }
});

test('tampered image is refused', async () => {
  const { env, aci } = await fresh('example.com/app', rsa);
  try {
    await trust(env, ['--prefix=example.com/app', rsaPub]);
    await fs.appendFile(aci, Buffer.alloc(1024));
    const r = await env.rkt(['fetch', aci]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /bad signature for .*tampered/);
    assert.deepEqual(await (await openStore(env.dir)).listImages(), [], 'a refused image must not enter the store');
  } finally {
    await env.cleanup();
  }
});

test('untrusted signer and key trusted for another prefix are refused, naming the fix', async () => {
  const { env, aci } = await fresh('example.com/app', ed);
  try {
    const r = await env.rkt(['fetch', aci]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /signed by an untrusted key/);
    assert.match(r.stderr, /rkt trust --prefix=example.com\/app/);
    await trust(env, ['--prefix=example.org/other', edPub]);
    const w = await env.rkt(['fetch', aci]);
    assert.equal(w.exitCode, 254);
    assert.match(w.stderr, /trusted only for prefix "example.org\/other"/);
    // A sibling whose name merely starts with the same letters is another prefix too.
    await trust(env, ['--prefix=example.com/ap', edPub]);
    assert.equal((await env.rkt(['fetch', aci])).exitCode, 254);
  } finally {
    await env.cleanup();
  }
});

test('a key trusted for a parent prefix, or as root, is accepted', async () => {
  const parent = await fresh('example.com/team/app', rsa);
  try {
    await trust(parent.env, ['--prefix=example.com', rsaPub]);
    const r = await parent.env.rkt(['fetch', parent.aci]);
    assert.equal(r.exitCode, 0, r.stderr);
  } finally {
    await parent.env.cleanup();
  }
  const root = await fresh('other.org/anything', ed);
  try {
    const noKey = await root.env.rkt(['trust', '--skip-fingerprint-review', '--root']);
    assert.equal(noKey.exitCode, 2);
    await trust(root.env, ['--root', edPub]);
    assert.ok((await fs.stat(path.join(root.env.localConfig, 'trustedkeys/root.d', ed.fingerprint))).isFile());
    const r = await root.env.rkt(['fetch', root.aci]);
    assert.equal(r.exitCode, 0, r.stderr);
  } finally {
    await root.env.cleanup();
  }
});

test('a vendor key masked by an empty local file is refused', async () => {
  const { env, aci } = await fresh('example.com/app', rsa);
  try {
    const vendor = path.join(env.systemConfig, 'trustedkeys/prefix.d/example.com/app', rsa.fingerprint);
    await fs.mkdir(path.dirname(vendor), { recursive: true });
    await fs.copyFile(rsaPub, vendor);
    const vendorOk = await env.rkt(['fetch', aci]);
    assert.equal(vendorOk.exitCode, 0, vendorOk.stderr);
    const mask = path.join(env.localConfig, 'trustedkeys/prefix.d/example.com/app', rsa.fingerprint);
    await fs.mkdir(path.dirname(mask), { recursive: true });
    await fs.writeFile(mask, '');
    const r = await env.rkt(['fetch', aci]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /masked by .*local\/trustedkeys/);
  } finally {
    await env.cleanup();
  }
});

test('--signature names a detached signature elsewhere (binary works too)', async () => {
  const { env, aci } = await fresh('example.com/app');
  try {
    await trust(env, ['--prefix=example.com/app', rsaPub]);
    const sig = await rsa.sign(aci, { out: path.join(env.root, 'elsewhere.sig'), armor: false });
    const r = await env.rkt(['fetch', `--signature=${sig}`, aci]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /signature verified:/);
  } finally {
    await env.cleanup();
  }
});

test('rkt trust without a terminal and without --skip-fingerprint-review refuses clearly', async () => {
  const r = await e.rkt(['trust', '--prefix=example.com/app', rsaPub]);
  assert.equal(r.exitCode, 254);
  assert.match(r.stderr, /GPG key fingerprint is: /);
  assert.match(r.stderr, /stdin is not a terminal/);
  assert.match(r.stderr, /--skip-fingerprint-review/);
  const missing = await e.rkt(['trust', rsaPub]);
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /missing --prefix or --root/);
  const scheme = await e.rkt(['trust', '--prefix=https://example.com/app', rsaPub]);
  assert.match(scheme.stderr, /must not have a URL scheme/);
});

test('on a terminal rkt trust asks, and stores the key only after "yes"', async () => {
  const env = await makeFetchEnv();
  try {
    // script(1) gives rkt a real pseudo-terminal as stdin.
    const cmd = (answer: string) =>
      execa('script', ['-qec', `node ${RKT_BIN} --local-config=${env.localConfig} --system-config=${env.systemConfig} trust --prefix=example.com/app ${rsaPub}`, '/dev/null'], {
        input: `${answer}\n`,
        reject: false,
      });
    const no = await cmd('no');
    assert.match(String(no.stdout), /Are you sure you want to trust this key \(yes\/no\)\?/);
    await assert.rejects(fs.stat(path.join(env.localConfig, 'trustedkeys/prefix.d/example.com/app', rsa.fingerprint)));
    const yes = await cmd('yes');
    assert.match(String(yes.stdout), /Added key for prefix "example.com\/app"/);
    assert.ok((await fs.stat(path.join(env.localConfig, 'trustedkeys/prefix.d/example.com/app', rsa.fingerprint))).isFile());
  } finally {
    await env.cleanup();
  }
});
