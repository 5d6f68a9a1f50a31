// oci:DIR[:NAME]: an OCI image layout directory. Every file is opened so that it cannot be a symlink
// (O_NOFOLLOW on the last component, lstat on the directories above it) and, checked on the open fd
// itself, lies inside the layout, so a planted link cannot make rkt read /etc/shadow as a "blob".
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import type { Descriptor } from '../documents.js';
import type { ImageSource, TopDocument } from '../source.js';
import { LayoutReader, hostileLayout, invalidLayout, selectEntry, type LayoutFiles } from './layout-common.js';

export interface LocalSourceOptions {
  /** A private directory for this fetch, removed by the caller afterwards (only archives use it). */
  tmpDir: string;
  debug?: (m: string) => void;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Files of a layout directory whose real path is `root`. */
export class DirLayoutFiles implements LayoutFiles {
  readonly where: string;

  constructor(private readonly root: string, shown: string) {
    this.where = `directory ${shown}`;
  }

  /** Opens ROOT/rel for reading, or returns undefined when it does not exist. */
  private async openFile(rel: string): Promise<FileHandle | undefined> {
    const parts = rel.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw hostileLayout(this.where, `path ${JSON.stringify(rel)} leaves the layout`);
    let dir = this.root;
    for (const p of parts.slice(0, -1)) {
      dir = path.join(dir, p);
      let st;
      try {
        st = await lstat(dir);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw this.ioError(rel, err);
      }
      if (st.isSymbolicLink()) throw hostileLayout(this.where, `${path.relative(this.root, dir)} is a symlink`);
      if (!st.isDirectory()) throw invalidLayout(this.where, `${path.relative(this.root, dir)} is not a directory`);
    }
    let fh: FileHandle;
    try {
      fh = await open(path.join(this.root, rel), OPEN_FLAGS);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP') throw hostileLayout(this.where, `${rel} is a symlink`);
      throw this.ioError(rel, err);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw invalidLayout(this.where, `${rel} is not a regular file`);
      // The directories were checked before the open; the fd's own path closes the race with a rename.
      const real = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => undefined);
      if (real !== undefined && !real.startsWith(`${this.root}/`)) throw hostileLayout(this.where, `${rel} resolves to ${real}, outside the layout`);
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  private ioError(rel: string, err: unknown): RktError {
    return new RktError('FETCH', `cannot read ${rel} in ${this.where}: ${errnoCode(err) ?? describeCause(err)}`, {
      hint: 'check the permissions of the layout directory',
      cause: err,
    });
  }

  async read(rel: string, max: number, what: string): Promise<Buffer | undefined> {
    const fh = await this.openFile(rel);
    if (!fh) return undefined;
    try {
      const size = (await fh.stat()).size;
      if (size > max) throw invalidLayout(this.where, `${what} (${rel}) is ${size} bytes, more than the ${max} allowed`);
      // One byte more than fstat said, so a file that grows while it is read is caught.
      const buf = Buffer.alloc(size + 1);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== size) throw invalidLayout(this.where, `${what} (${rel}) changed while it was read`);
      return buf.subarray(0, got);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async open(rel: string): Promise<Readable | undefined> {
    const fh = await this.openFile(rel);
    return fh?.createReadStream({ autoClose: true });
  }
}

class OciLayoutSource implements ImageSource {
  private selected: Descriptor | undefined;

  constructor(
    readonly description: string,
    private readonly reader: LayoutReader,
    private readonly name: string | undefined,
    private readonly onClose: (() => Promise<void>) | undefined,
  ) {}

  /** The chosen index.json entry; resolved once so top() and later calls agree. */
  async entry(): Promise<Descriptor> {
    this.selected ??= selectEntry(await this.reader.index(), this.name, this.description);
    return this.selected;
  }

  async top(): Promise<TopDocument> {
    return this.reader.top(await this.entry());
  }

  manifest(desc: Descriptor): Promise<Buffer> {
    return this.reader.document(desc);
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.reader.blob(desc);
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }
}

/**
 * An ImageSource over a layout's files (shared with oci-archive). The layout and the name are checked now,
 * so a wrong name fails before anything else is done.
 */
export async function layoutSource(files: LayoutFiles, name: string | undefined, description: string, onClose?: () => Promise<void>): Promise<ImageSource> {
  const src = new OciLayoutSource(description, new LayoutReader(files), name, onClose);
  await src.entry();
  return src;
}

export async function openOciLayout(dir: string, name: string | undefined, opts: LocalSourceOptions): Promise<ImageSource> {
  const description = `oci:${dir}${name !== undefined ? `:${name}` : ''}`;
  let root: string;
  try {
    root = await realpath(dir);
  } catch (err) {
    const code = errnoCode(err);
    throw new RktError(code === 'ENOENT' ? 'IMAGE_NOT_FOUND' : 'FETCH', `cannot open OCI layout ${dir}: ${code ?? describeCause(err)}`, {
      hint: code === 'ENOENT' ? 'check the directory after "oci:" (oci:DIR[:NAME])' : 'check the directory and its permissions',
      cause: err,
    });
  }
  const st = await lstat(root);
  if (!st.isDirectory()) {
    throw new RktError('IMAGE_INVALID', `${dir} is not a directory, so not an OCI layout`, {
      hint: 'for a tar of a layout write oci-archive:FILE; for docker save output, docker-archive:FILE',
    });
  }
  opts.debug?.(`reading OCI layout ${root}`);
  return layoutSource(new DirLayoutFiles(root, dir), name, description);
}
