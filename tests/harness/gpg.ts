// Real GnuPG for tests: a private GNUPGHOME, keys made with --quick-gen-key (no passphrase),
// armored public key export and detached signatures, exactly as an image publisher makes them.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export type GpgAlgo = 'rsa' | 'ed25519';

export interface GpgKey {
  readonly uid: string;
  /** Lower-case hex fingerprint (the keystore file name). */
  readonly fingerprint: string;
  /** Writes the armored public key to `dest` and returns dest. */
  exportPublic(dest: string): Promise<string>;
  /** Detached-signs `file` into `out` (default `<file>.asc`), armored unless armor is false. */
  sign(file: string, opts?: { out?: string; armor?: boolean }): Promise<string>;
}

export interface GpgHome {
  readonly home: string;
  genKey(uid: string, algo?: GpgAlgo): Promise<GpgKey>;
  cleanup(): Promise<void>;
}

const BATCH = ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', ''];

export async function makeGpgHome(): Promise<GpgHome> {
  // Short path: gpg-agent's socket path must fit in sun_path.
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'gpg-'));
  await fs.chmod(home, 0o700);
  const gpg = (args: string[]) => execa('gpg', ['--homedir', home, ...args], { stdin: 'ignore' });

  async function fingerprintOf(uid: string): Promise<string> {
    const { stdout } = await gpg(['--with-colons', '--list-keys', `=${uid}`]);
    const fpr = stdout.split('\n').find((l) => l.startsWith('fpr:'));
    const fp = fpr?.split(':')[9];
    if (!fp) throw new Error(`gpg: no fingerprint for ${uid}:\n${stdout}`);
    return fp.toLowerCase();
  }

  return {
    home,
    async genKey(uid, algo = 'rsa') {
      const spec = algo === 'rsa' ? 'rsa2048' : 'ed25519';
      await gpg([...BATCH, '--quick-gen-key', uid, spec, 'sign', 'never']);
      const fingerprint = await fingerprintOf(uid);
      return {
        uid,
        fingerprint,
        async exportPublic(dest) {
          const { stdout } = await gpg(['--armor', '--export', fingerprint]);
          await fs.writeFile(dest, stdout + '\n');
          return dest;
        },
        async sign(file, opts = {}) {
          const out = opts.out ?? `${file}${opts.armor === false ? '.sig' : '.asc'}`;
          await gpg([...BATCH, '--yes', '--local-user', fingerprint, ...(opts.armor === false ? [] : ['--armor']), '--output', out, '--detach-sign', file]);
          return out;
        },
      };
    },
    async cleanup() {
      await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
