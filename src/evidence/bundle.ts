import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { dirname, join, posix } from 'node:path';

/**
 * The bundle as it is written: every file goes through here, so its sha256 and size are known for
 * the manifest without reading it back. Files are streamed (a line at a time, with backpressure),
 * so an export of millions of events keeps memory flat.
 */

export interface BundleFile {
  /** relative, with forward slashes, e.g. `trail/events.jsonl` */
  path: string;
  sha256: string;
  bytes: number;
}

export class BundleWriter {
  private readonly written = new Map<string, BundleFile>();
  private readonly open = new Set<string>();

  /** `dir` must not exist or be empty: an export never mixes with older files. */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    if (readdirSync(dir).length > 0) throw new BundleError(`${dir} is not empty: export into a new directory, so the bundle holds only this export's files`);
  }

  async writeFile(path: string, content: string | Buffer): Promise<BundleFile> {
    const out = this.stream(path);
    await out.write(content);
    return out.close();
  }

  /** A file written piece by piece; `write` waits while the disk is behind. */
  stream(path: string): BundleStream {
    const rel = checkedPath(path);
    if (this.written.has(rel) || this.open.has(rel)) throw new BundleError(`${rel} is written twice in one bundle`);
    this.open.add(rel);
    const full = join(this.dir, ...rel.split('/'));
    mkdirSync(dirname(full), { recursive: true });
    return new BundleStream(rel, createWriteStream(full, { flags: 'wx' }), (file) => {
      this.open.delete(rel);
      this.written.set(rel, file);
    });
  }

  /** Every file written so far, by path. */
  files(): BundleFile[] {
    if (this.open.size > 0) throw new BundleError(`still open: ${[...this.open].join(', ')}`);
    return [...this.written.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

export class BundleStream {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(
    readonly path: string,
    private readonly out: WriteStream,
    private readonly done: (file: BundleFile) => void,
  ) {}

  async write(chunk: string | Buffer): Promise<void> {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.hash.update(buf);
    this.bytes += buf.length;
    if (!this.out.write(buf)) await waitFor(this.out, 'drain');
  }

  async close(): Promise<BundleFile> {
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
    const file = { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes };
    this.done(file);
    return file;
  }
}

export class BundleError extends Error {
  readonly code = 'EVIDENCE_BUNDLE';
}

function waitFor(out: WriteStream, event: 'drain'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      out.off(event, onDrain);
      reject(err);
    };
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    out.once(event, onDrain);
    out.once('error', onError);
  });
}

/** Bundle paths are relative, forward-slashed and stay inside the bundle. */
function checkedPath(path: string): string {
  const norm = posix.normalize(path);
  if (norm !== path || path.startsWith('/') || path.startsWith('..') || path.includes('\\') || !/^[A-Za-z0-9._\-/]+$/.test(path)) {
    throw new BundleError(`${path} is not a plain relative bundle path`);
  }
  return norm;
}
