// fetch-verify-render-vs-gpg-sha512-tar: `rkt fetch` of a signed ~200 MB ACI (verify, hash, store,
// render) against `gpg --verify` + `sha512sum` + `tar -x` of the same file, in the same run.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { makeResult } from '../lib/result.js';
import { run, timeAsync } from '../lib/measure.js';
import { quick, rktBin, rmrf, runs, tmpDir } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';
import { makeGpgHome } from '../../tests/harness/gpg.js';
import { makeAciDir, buildAci } from '../../tests/harness/aci.js';

const NAME = 'example.com/bench/big';

export const fetchVerifyRender: Suite = {
  produces: ['fetch-verify-render-vs-gpg-sha512-tar'],
  async available() {
    return fs.existsSync(rktBin) ? true : 'dist/bin/rkt.js not built';
  },
  async run(progress) {
    const work = tmpDir('fetch');
    const gpg = await makeGpgHome();
    try {
      const mib = quick ? 20 : 200;
      progress(`building a ${mib} MiB ACI`);
      // Incompressible content so neither side gets a free ride from compression.
      const chunk = 8;
      const dir = await makeAciDir({ name: NAME, version: '1.0.0', exec: ['/bin/true'], busybox: true });
      fs.mkdirSync(path.join(dir, 'rootfs', 'data'), { recursive: true });
      for (let i = 0; i < mib / chunk; i++) {
        fs.writeFileSync(path.join(dir, 'rootfs', 'data', `blob-${i}`), crypto.randomBytes(chunk * 2 ** 20));
      }
      const aci = path.join(work, 'big.aci');
      await buildAci(dir, aci);
      rmrf(dir);
      const key = await gpg.genKey('Bench Signer <bench@example.com>');
      const asc = await key.sign(aci);
      const pub = await key.exportPublic(path.join(work, 'key.asc'));
      const cfg = path.join(work, 'local-config');
      const sys = path.join(work, 'system-config');
      fs.mkdirSync(cfg);
      fs.mkdirSync(sys);
      await run('node', [rktBin, `--local-config=${cfg}`, `--system-config=${sys}`, `--dir=${path.join(work, 'trust-dir')}`, 'trust', `--prefix=example.com/bench`, '--skip-fingerprint-review', pub]);

      let dataDir = '';
      progress('timing rkt fetch');
      const ours = await timeAsync(
        async () => {
          await run('node', [rktBin, `--dir=${dataDir}`, `--local-config=${cfg}`, `--system-config=${sys}`, 'fetch', aci]);
        },
        {
          runs,
          warmup: 1,
          before: async () => {
            dataDir = path.join(work, `data-${Date.now()}`);
          },
          after: async () => rmrf(dataDir),
        },
      );
      progress('timing gpg --verify + sha512sum + tar -x');
      let out = '';
      const base = await timeAsync(
        async () => {
          await run('gpg', ['--homedir', gpg.home, '--batch', '--verify', asc, aci]);
          await run('sha512sum', [aci]);
          await run('tar', ['-xf', aci, '-C', out]);
        },
        {
          runs,
          warmup: 1,
          before: async () => {
            out = path.join(work, `x-${Date.now()}`);
            fs.mkdirSync(out);
          },
          after: async () => rmrf(out),
        },
      );
      return [
        makeResult({
          name: 'fetch-verify-render-vs-gpg-sha512-tar',
          unit: 's',
          ours,
          baselineName: 'gpg --verify + sha512sum + tar -x',
          baseline: base,
          command: `rkt fetch ${path.basename(aci)} (${mib} MiB, signed, fresh --dir each run)`,
          notes: `A ${mib} MiB uncompressed ACI of random data, RSA-2048 detached signature; each run starts from an empty store.`,
        }),
      ];
    } finally {
      await gpg.cleanup();
      rmrf(work);
    }
  },
};
