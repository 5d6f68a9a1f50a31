// image-list-1000-s: `rkt image list` over a store holding 1,000 small images (imported in-process).
import fs from 'node:fs';
import path from 'node:path';
import { makeResult } from '../lib/result.js';
import { timeCommand } from '../lib/measure.js';
import { quick, rktBin, rmrf, runs, tmpDir } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';
import { openStore } from '../../stage0/store/index.js';
import { makeTarBuffer } from '../../tests/harness/aci.js';

export const imageList: Suite = {
  produces: ['image-list-1000-s'],
  async available() {
    return fs.existsSync(rktBin) ? true : 'dist/bin/rkt.js not built';
  },
  async run(progress) {
    const work = tmpDir('imglist');
    try {
      const count = quick ? 200 : 1000;
      const dataDir = path.join(work, 'data');
      const store = await openStore(dataDir);
      progress(`importing ${count} images`);
      for (let i = 0; i < count; i++) {
        const manifest = JSON.stringify({
          acKind: 'ImageManifest',
          acVersion: '0.8.11',
          name: `example.com/bench/img-${i}`,
          labels: [{ name: 'version', value: '1.0.0' }, { name: 'os', value: 'linux' }, { name: 'arch', value: 'amd64' }],
        });
        const buf = await makeTarBuffer([
          { header: { name: 'manifest', mode: 0o644 }, body: manifest },
          { header: { name: 'rootfs', type: 'directory', mode: 0o755 } },
          { header: { name: 'rootfs/hello', mode: 0o644 }, body: `image ${i}\n` },
        ]);
        const file = path.join(work, 'img.aci');
        fs.writeFileSync(file, buf);
        await store.importAci(file, { name: `example.com/bench/img-${i}` });
      }
      const ours = await timeCommand('node', [rktBin, `--dir=${dataDir}`, 'image', 'list'], { runs, warmup: 1 });
      const base = await timeCommand('node', [rktBin, 'version'], { runs, warmup: 1 });
      return [
        makeResult({
          name: 'image-list-1000-s',
          unit: 's',
          ours,
          baselineName: 'rkt version',
          baseline: base,
          command: `rkt --dir=<store with ${count} images> image list`,
          notes: 'The baseline is the CLI start-up alone, so the ratio shows what listing adds.',
        }),
      ];
    } finally {
      rmrf(work);
    }
  },
};
