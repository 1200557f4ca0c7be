import pino from 'pino';
import { CheckpointOutbox } from '../../src/audit/checkpoint-outbox';
import type { CheckpointRecord, CheckpointSink } from '../../src/audit/checkpoint-store';

/** The outbox between the shipper and a checkpoint store across the network (the bucket). */

const logger = pino({ level: 'silent' });
const checkpoint = (size: number): CheckpointRecord => ({ instanceId: 'gw', size, root: size.toString(16).padStart(64, '0'), note: `note ${size}`, time: new Date(0) });

/** A store that is away for its first `failFirst` writes, then takes them. */
class FlakyStore implements CheckpointSink {
  readonly name = 'flaky';
  readonly written: number[] = [];
  attempts = 0;
  constructor(private failFirst: number) {}
  write(record: CheckpointRecord): Promise<void> {
    this.attempts += 1;
    if (this.failFirst > 0) {
      this.failFirst -= 1;
      return Promise.reject(new Error('connect ECONNREFUSED'));
    }
    this.written.push(record.size);
    return Promise.resolve();
  }
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('checkpoint outbox', () => {
  it('returns at once while the store is away, then writes every checkpoint in order and counts the failures', async () => {
    const store = new FlakyStore(3);
    const outbox = new CheckpointOutbox(store, logger, { maxQueue: 10, firstBackoffMs: 5, maxBackoffMs: 20 });
    for (const size of [10, 20, 30]) await outbox.write(checkpoint(size));
    expect(store.written).toEqual([]);
    await until(() => store.written.length === 3);
    expect(store.written).toEqual([10, 20, 30]);
    expect(outbox.stats()).toEqual({ sink: 'flaky', waiting: 0, failures: 3, dropped: 0 });
    await outbox.stop();
  });

  it('keeps the newest checkpoints when the queue is full, and counts the ones dropped', async () => {
    const store = new FlakyStore(1_000_000);
    const outbox = new CheckpointOutbox(store, logger, { maxQueue: 3, firstBackoffMs: 1000, maxBackoffMs: 1000 });
    for (const size of [1, 2, 3, 4, 5]) await outbox.write(checkpoint(size));
    expect(outbox.stats()).toMatchObject({ waiting: 3, dropped: 2 });
    await outbox.stop();
    expect(store.written).toEqual([]);
  });

  it('at stop, drain tries once more at once rather than after the backoff', async () => {
    const store = new FlakyStore(1);
    const outbox = new CheckpointOutbox(store, logger, { maxQueue: 10, firstBackoffMs: 60_000, maxBackoffMs: 60_000 });
    await outbox.write(checkpoint(7));
    await until(() => store.attempts === 1);
    expect(await outbox.drain(2000)).toBe(true);
    expect(store.written).toEqual([7]);
    await outbox.stop();
  });
});
