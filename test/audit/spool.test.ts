import { appendFileSync, constants, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, SpoolFullError } from '../../src/audit/spool';

interface Item {
  n: number;
  text: string;
}

const dir = () => mkdtempSync(join(tmpdir(), 'vecgate-spool-'));
const items = (from: number, count: number): Item[] => Array.from({ length: count }, (_, i) => ({ n: from + i, text: `event ${from + i} ✓` }));

describe('the audit spool', () => {
  it('gives back, after a reopen, every frame whose append resolved, in order', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append(items(i * 3, 3))));
    await spool.close();
    const { recovery } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(recovery.cut).toBeUndefined();
    expect(recovery.entries.map((e) => e.value.n)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  /** the open flags (octal, from /proc/self/fdinfo) of this process's descriptors on the files of `d` */
  const openFlags = (d: string): number[] =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        if (!readlinkSync(`/proc/self/fd/${fd}`).startsWith(d)) return [];
        return [parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8)];
      } catch {
        return []; // closed meanwhile
      }
    });

  it('writes each group durably (O_DSYNC) unless told not to sync, which only benchmarks do', async () => {
    for (const sync of [true, false]) {
      const d = dir();
      const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20, sync });
      await spool.append(items(0, 1));
      const flags = openFlags(d);
      expect(flags).toHaveLength(1);
      expect(((flags[0] ?? 0) & constants.O_DSYNC) !== 0).toBe(sync);
      expect((flags[0] ?? 0) & constants.O_APPEND).toBe(constants.O_APPEND);
      await spool.close();
    }
  });

  it('reads back durable frames from a cursor, across segments, in small or large steps', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 300 });
    for (let i = 0; i < 20; i++) await spool.append(items(i * 2, 2));
    for (const step of [1, 50, 1 << 20]) {
      const seen: number[] = [];
      let cursor = { segment: 0, offset: 0 };
      for (let guard = 0; guard < 1000; guard++) {
        const { values, next } = spool.read(cursor, step);
        if (values.length === 0) break;
        seen.push(...values.map((v) => v.n));
        cursor = next;
      }
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    }
    await spool.close();
  });

  it('starts new segments and deletes the ones released, never the current one', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 200 });
    for (let i = 0; i < 10; i++) await spool.append(items(i * 4, 4));
    const before = readdirSync(d).length;
    expect(before).toBeGreaterThan(3);
    const used = spool.usedBytes();
    spool.release(spool.currentSegment());
    expect(readdirSync(d)).toHaveLength(1);
    expect(spool.usedBytes()).toBeLessThan(used);
    await spool.close();
    const { recovery } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 200 });
    expect(recovery.entries.every((e) => e.segment === spool.currentSegment())).toBe(true);
  });

  it('cuts a torn tail at the last whole frame and says so', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    await spool.append(items(0, 5));
    await spool.close();
    const [file] = readdirSync(d);
    const whole = statSync(join(d, file as string)).size;
    appendFileSync(join(d, file as string), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 123, 34]));
    const { spool: reopened, recovery } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(recovery.entries).toHaveLength(5);
    expect(recovery.cut).toEqual({ segment: file, atByte: whole, droppedBytes: 10, reason: 'a frame was cut short' });
    expect(statSync(join(d, file as string)).size).toBe(whole);
    await reopened.append(items(5, 1));
    await reopened.close();
    expect(Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 }).recovery.entries.map((e) => e.value.n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('cuts at a frame that fails its checksum', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    await spool.append(items(0, 2));
    await spool.close();
    const file = join(d, readdirSync(d)[0] as string);
    const size = statSync(file).size;
    appendFileSync(file, Buffer.concat([Buffer.from([0, 0, 0, 2, 0, 0, 0, 0]), Buffer.from('{}')]));
    const { recovery } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(recovery.entries).toHaveLength(2);
    expect(recovery.cut).toMatchObject({ atByte: size, reason: 'a frame fails its checksum' });
  });

  it('refuses appends past its size limit, and takes them again once segments are released', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 600, segmentBytes: 100 });
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) await spool.append(items(i, 1)).catch((err: unknown) => (refused = err));
    expect(refused).toBeInstanceOf(SpoolFullError);
    expect(spool.hasRoom(40)).toBe(false);
    spool.release(spool.currentSegment());
    expect(spool.hasRoom(50)).toBe(true);
    await spool.append(items(1000, 1));
    await spool.close();
  });

  it('stops on a full disk: the append fails, and so does every later one', async () => {
    const d = dir();
    const { spool } = Spool.open<Item>({ dir: d, maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    symlinkSync('/dev/full', join(d, 'seg-0000000000000000.log'));
    await expect(spool.append(items(0, 1))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(spool.failure()).toMatchObject({ code: 'ENOSPC' });
    expect(spool.hasRoom()).toBe(false);
    await expect(spool.append(items(1, 1))).rejects.toMatchObject({ code: 'ENOSPC' });
    await spool.close();
  });
});
