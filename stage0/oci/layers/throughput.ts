// Throughput sanity check for unpackLayer, kept out of the unit suite (it takes seconds and needs root):
//   node dist/stage0/oci/layers/throughput.js [DIR ...]
// tars the given host directories (default /usr/lib/python3.11 and /usr/include: ~180 MB, ~13k files),
// compresses the tar with gzip and zstd, and times unpackLayer against `tar -x` of the same data.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { unpackLayer } from './unpack.js';
import { compress, layerFromTar, tempDir } from './testutil.js';

const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['/usr/lib/python3.11', '/usr/include'];
const t = tempDir('rkt-throughput-');
try {
  const tar = execFileSync('tar', ['-c', '--format=posix', '-C', '/', ...dirs.map((d) => path.relative('/', d))], { maxBuffer: 4 << 30 });
  const files = Number(execFileSync('sh', ['-c', `tar -t -f - | wc -l`], { input: tar }).toString().trim());
  console.log(`tar: ${(tar.length / 1e6).toFixed(1)} MB uncompressed, ${files} entries`);
  for (const kind of ['gzip', 'zstd', 'none'] as const) {
    const blob = compress(tar, kind);
    const layer = layerFromTar(tar, kind, blob);
    const blobPath = path.join(t.dir, `blob-${kind}`);
    fs.writeFileSync(blobPath, blob);
    const root = path.join(t.dir, `root-${kind}`);
    fs.mkdirSync(root);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await unpackLayer({
      source: fs.createReadStream(blobPath, { highWaterMark: 256 * 1024 }),
      descriptor: layer.descriptor,
      diffId: layer.diffId,
      rootfs: root,
      blobOut: path.join(t.dir, `copy-${kind}`),
      what: `layer (${kind})`,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(c0);
    const ref = path.join(t.dir, `ref-${kind}`);
    fs.mkdirSync(ref);
    const flag = kind === 'gzip' ? ['-z'] : kind === 'zstd' ? ['--zstd'] : [];
    const t1 = process.hrtime.bigint();
    execFileSync('tar', ['-x', ...flag, '--xattrs', '--numeric-owner', '-f', blobPath, '-C', ref]);
    const refMs = Number(process.hrtime.bigint() - t1) / 1e6;
    console.log(`${kind.padEnd(4)}: blob ${(blob.length / 1e6).toFixed(1)} MB; unpackLayer ${ms.toFixed(0)} ms ` +
      `(${(tar.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s uncompressed, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms); tar -x ${refMs.toFixed(0)} ms`);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ref, { recursive: true, force: true });
  }
} finally {
  t.cleanup();
}
