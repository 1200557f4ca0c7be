import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, truncateSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The durable spool: audit frames appended to segment files and made durable by one O_DSYNC write
 * per group of appends (group commit), before the gateway answers. The shipper reads them back
 * and the spool drops a segment once everything in it is shipped. A torn or corrupt tail (a
 * crash mid-write, a bad disk) is cut off at the last whole frame and reported.
 *
 * Frame: 4-byte big-endian payload length, 4-byte CRC-32 of the payload, payload (UTF-8 JSON).
 */

const HEADER = 8;
const MAX_FRAME = 64 * 1024 * 1024;
const SEGMENT = /^seg-(\d{16})\.log$/;

export interface SpoolOptions {
  dir: string;
  /** refuse appends (the gateway answers 503) once the segments hold this much */
  maxBytes: number;
  /** start a new segment past this size, so shipped ones can be deleted */
  segmentBytes: number;
  /** each group of appends durable before it resolves (O_DSYNC; default); false only to measure what durability costs */
  sync?: boolean;
}

/** What a frame was, for the caller: the spool itself only keeps bytes. */
export interface SpoolEntry<T> {
  segment: number;
  value: T;
}

export interface Recovery<T> {
  entries: SpoolEntry<T>[];
  /** set when a torn or corrupt tail was cut off */
  cut?: { segment: string; atByte: number; droppedBytes: number; reason: string };
}

/** A place in the spool: a segment and a byte offset in it. */
export interface SpoolCursor {
  segment: number;
  offset: number;
}

/** A frame's payload already serialised (as JSON of a T): appended as it is, not stringified again. */
export class SerializedFrame {
  constructor(readonly json: string) {}
}

export class SpoolFullError extends Error {
  readonly code = 'SPOOL_FULL';
}

export class Spool<T> {
  private handle: FileHandle | undefined;
  private segment: number;
  private segmentSize = 0;
  private totalBytes: number;
  private readonly sizes = new Map<number, number>();
  private queue: { bytes: Buffer; done: (err?: Error) => void }[] = [];
  private writing: Promise<void> | undefined;
  private failed: Error | undefined;

  private constructor(
    private readonly options: SpoolOptions,
    segments: Map<number, number>,
  ) {
    for (const [s, size] of segments) this.sizes.set(s, size);
    this.segment = segments.size ? Math.max(...segments.keys()) : 0;
    this.segmentSize = segments.get(this.segment) ?? 0;
    this.totalBytes = [...segments.values()].reduce((a, b) => a + b, 0);
  }

  /** Opens the spool and reads back every whole frame still in it, oldest first. */
  static open<T>(options: SpoolOptions): { spool: Spool<T>; recovery: Recovery<T> } {
    mkdirSync(options.dir, { recursive: true });
    const numbers = readdirSync(options.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const entries: SpoolEntry<T>[] = [];
    const sizes = new Map<number, number>();
    let cut: Recovery<T>['cut'];
    for (const [i, n] of numbers.entries()) {
      const path = join(options.dir, segmentName(n));
      const bytes = readFileSync(path);
      const read = readFrames<T>(bytes);
      for (const value of read.values) entries.push({ segment: n, value });
      if (read.end < bytes.length) {
        cut = { segment: segmentName(n), atByte: read.end, droppedBytes: bytes.length - read.end, reason: read.problem ?? 'a torn frame' };
        truncateSync(path, read.end);
        // frames after a corrupt one cannot be trusted to follow it: later segments go too
        for (const later of numbers.slice(i + 1)) unlinkSync(join(options.dir, segmentName(later)));
        sizes.set(n, read.end);
        break;
      }
      sizes.set(n, bytes.length);
    }
    return { spool: new Spool<T>(options, sizes), recovery: { entries, ...(cut ? { cut } : {}) } };
  }

  /** The segment new frames go to; the caller notes it to release segments later. */
  currentSegment(): number {
    return this.segment;
  }

  usedBytes(): number {
    return this.totalBytes;
  }

  /** True while an append of about `bytes` fits and the disk has not failed. */
  hasRoom(bytes = 0): boolean {
    return !this.failed && this.totalBytes + bytes <= this.options.maxBytes;
  }

  /** The error that stopped the spool (disk full, I/O error), if any. */
  failure(): Error | undefined {
    return this.failed;
  }

  /** Resolves once the values are on disk (O_DSYNC write); appends made meanwhile share one write. */
  append(values: readonly (T | SerializedFrame)[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const bytes = Buffer.concat(values.map(frame));
    if (!this.hasRoom(bytes.length)) return Promise.reject(new SpoolFullError(`the audit spool holds ${this.totalBytes} bytes, its limit is ${this.options.maxBytes}`));
    this.totalBytes += bytes.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, done: (err) => (err ? reject(err) : resolve()) });
      this.writing ??= this.drain();
    });
  }

  /**
   * Reads durable frames from `from` on, about `maxBytes` at most (at least one frame), and where
   * to go on from. Only bytes already synced are read, so a reader never sees a frame that a
   * crash could still take back.
   */
  read(from: SpoolCursor, maxBytes: number): { values: T[]; next: SpoolCursor } {
    let cursor = from;
    for (;;) {
      const durable = this.sizes.get(cursor.segment);
      if (durable !== undefined && cursor.offset < durable) break;
      const later = [...this.sizes.keys()].filter((n) => n > cursor.segment).sort((a, b) => a - b)[0];
      if (later === undefined) return { values: [], next: cursor };
      cursor = { segment: later, offset: 0 };
    }
    const durable = this.sizes.get(cursor.segment) as number;
    const length = Math.min(durable - cursor.offset, Math.max(maxBytes, 1));
    const bytes = readSlice(join(this.options.dir, segmentName(cursor.segment)), cursor.offset, durable - cursor.offset, length);
    const read = readFrames<T>(bytes, true);
    return { values: read.values, next: { segment: cursor.segment, offset: cursor.offset + read.end } };
  }

  /** Deletes whole segments before `segment` (everything in them is shipped). */
  release(segment: number): void {
    for (const [n, size] of this.sizes) {
      if (n >= segment || n === this.segment) continue;
      unlinkSync(join(this.options.dir, segmentName(n)));
      this.sizes.delete(n);
      this.totalBytes -= size;
    }
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        if (!this.handle || this.segmentSize >= this.options.segmentBytes) await this.rotate();
        const bytes = Buffer.concat(batch.map((b) => b.bytes));
        // durable when it returns: the segment is opened O_DSYNC (see rotate)
        await (this.handle as FileHandle).write(bytes);
        this.segmentSize += bytes.length;
        this.sizes.set(this.segment, this.segmentSize);
        for (const b of batch) b.done();
      } catch (err) {
        // Disk full or an I/O error: nothing after this is durable, so the spool stops taking frames.
        this.failed = err as Error;
        for (const b of [...batch, ...this.queue]) b.done(this.failed);
        this.queue = [];
      }
    }
    this.writing = undefined;
  }

  private async rotate(): Promise<void> {
    if (this.handle && this.segmentSize >= this.options.segmentBytes) {
      await this.handle.close();
      this.handle = undefined;
      this.segment += 1;
      this.segmentSize = 0;
    }
    const path = join(this.options.dir, segmentName(this.segment));
    // O_DSYNC: each group's write returns once its bytes and the file's new size are on disk, as a
    // write and an fdatasync would, in one call to the thread pool instead of two (on these VMs a
    // thread wake-up costs more than the write; docs/performance.md)
    const dsync = this.options.sync === false ? 0 : constants.O_DSYNC;
    this.handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | dsync, 0o666);
    this.segmentSize = (await this.handle.stat()).size;
    if (this.segmentSize === 0) syncDirectory(this.options.dir);
  }
}

function frame(value: unknown): Buffer {
  const payload = Buffer.from(value instanceof SerializedFrame ? value.json : JSON.stringify(value), 'utf8');
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Reads `wanted` bytes at `offset`, extended to the end of the frame that straddles them. */
function readSlice(path: string, offset: number, available: number, wanted: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    let size = Math.min(available, wanted);
    for (;;) {
      const buf = Buffer.alloc(size);
      const got = readSync(fd, buf, 0, size, offset);
      const bytes = buf.subarray(0, got);
      const whole = frameBoundary(bytes);
      if (whole > 0 || size >= available) return bytes;
      const need = bytes.length >= HEADER ? HEADER + bytes.readUInt32BE(0) : HEADER;
      size = Math.min(available, Math.max(size * 2, need));
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes taken by the whole frames at the start of `bytes`. */
function frameBoundary(bytes: Buffer): number {
  let at = 0;
  while (bytes.length - at >= HEADER && bytes.length - at - HEADER >= bytes.readUInt32BE(at)) at += HEADER + bytes.readUInt32BE(at);
  return at;
}

function readFrames<T>(bytes: Buffer, wholeOnly = false): { values: T[]; end: number; problem?: string } {
  const values: T[] = [];
  let at = 0;
  const stop = wholeOnly ? frameBoundary(bytes) : bytes.length;
  while (at < stop) {
    if (bytes.length - at < HEADER) return { values, end: at, problem: 'a frame header was cut short' };
    const length = bytes.readUInt32BE(at);
    if (length > MAX_FRAME) return { values, end: at, problem: `a frame claims ${length} bytes` };
    if (bytes.length - at - HEADER < length) return { values, end: at, problem: 'a frame was cut short' };
    const payload = bytes.subarray(at + HEADER, at + HEADER + length);
    if (crc32(payload) !== bytes.readUInt32BE(at + 4)) return { values, end: at, problem: 'a frame fails its checksum' };
    try {
      values.push(JSON.parse(payload.toString('utf8')) as T);
    } catch {
      return { values, end: at, problem: 'a frame is not JSON' };
    }
    at += HEADER + length;
  }
  return { values, end: at };
}

function segmentName(n: number): string {
  return `seg-${String(n).padStart(16, '0')}.log`;
}

/** A new file's directory entry is durable only once the directory is synced. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
