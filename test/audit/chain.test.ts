import { ChainVerifier, type Finding, type StoredEvent, type TrustedCheckpoint } from '../../src/audit/chain-verifier';
import { rootOf, stateRoot } from '../../src/audit/merkle';
import { SeqOrder } from '../../src/audit/verify';
import { GENESIS, recomputeHash, seal, type ChainHead } from '../../src/audit/sequencer';

interface Ev extends StoredEvent {
  requestId: string;
  time: Date;
  status: number;
  note?: string;
}

function chain(n: number, instanceId = 'gw-1'): { events: Ev[]; heads: ChainHead[] } {
  let head = GENESIS;
  const events: Ev[] = [];
  const heads: ChainHead[] = [head];
  for (let i = 1; i <= n; i++) {
    const sealed = seal(head, instanceId, { requestId: `r-${i}`, time: new Date(Date.UTC(2026, 10, 30, 12, 0, i)), status: 200, note: i % 3 === 0 ? undefined : 'x' });
    head = sealed.head;
    events.push(sealed.event as unknown as Ev);
    heads.push(head);
  }
  return { events, heads };
}

function checkpointsAt(heads: ChainHead[], sizes: number[]): TrustedCheckpoint[] {
  return sizes.map((size) => ({ size, root: stateRoot((heads[size] as ChainHead).tree) }));
}

function verify(events: Ev[], checkpoints: TrustedCheckpoint[]): Array<Pick<Finding, 'kind' | 'from' | 'to'>> {
  const v = new ChainVerifier('gw-1', checkpoints);
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) v.push(e);
  return v.finish().map(({ kind, from, to }) => ({ kind, from, to }));
}

/** what an attacker with write access to the store, but without the signing key, can do */
function resealFrom(events: Ev[], from: number, edit: (e: Ev) => void): Ev[] {
  const out = events.map((e) => ({ ...e }));
  let prev = from > 1 ? (out[from - 2] as Ev).hash : '';
  for (const e of out.slice(from - 1)) {
    if (e.seq === from) edit(e);
    e.prevHash = prev;
    e.hash = recomputeHash(e);
    prev = e.hash;
  }
  return out;
}

describe('the hash chain', () => {
  it('seals events with gap-free seq, links and a tree whose root is the Merkle root of the hashes', () => {
    const { events, heads } = chain(10);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events[0]?.prevHash).toBe('');
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    expect(stateRoot((heads[10] as ChainHead).tree)).toEqual(rootOf(events.map((e) => Buffer.from(e.hash, 'hex'))));
  });

  it('hashes the event as a store hands it back: dates as Date or ISO string, absent fields absent', () => {
    const { events } = chain(3);
    const e = events[1] as Ev;
    expect(recomputeHash({ ...e })).toBe(e.hash);
    expect(recomputeHash({ ...e, time: e.time.toISOString(), _id: 'mongo-id' })).toBe(e.hash);
    expect('note' in (events[2] as Ev)).toBe(false);
  });
});

describe('the chain verifier names what was done to the trail', () => {
  const { events, heads } = chain(20);
  const signed = checkpointsAt(heads, [0, 8, 16, 20]);

  it.each<[string, () => Ev[], TrustedCheckpoint[], Array<Pick<Finding, 'kind' | 'from' | 'to'>>]>([
    ['an untouched chain', () => events, signed, []],
    ['an untouched chain with events after the last checkpoint', () => events, checkpointsAt(heads, [8]), [{ kind: 'unsigned-tail', from: 9, to: 20 }]],
    ['an edited field', () => events.map((e) => (e.seq === 5 ? { ...e, status: 403 } : e)), signed, [{ kind: 'edited', from: 5, to: 5 }]],
    ['a deleted event', () => events.filter((e) => e.seq !== 7), signed, [{ kind: 'deleted', from: 7, to: 7 }]],
    ['a deleted range', () => events.filter((e) => e.seq < 10 || e.seq > 12), signed, [{ kind: 'deleted', from: 10, to: 12 }]],
    ['a cut tail', () => events.filter((e) => e.seq <= 17), signed, [{ kind: 'truncated', from: 18, to: 20 }]],
    ['events the chain never sealed (a trail from before it), no checkpoint', () => events.map(({ hash: _h, prevHash: _p, ...e }) => e as Ev), [], [{ kind: 'edited', from: 1, to: 20 }]],
    ['a run of events stripped of their hashes', () => events.map((e) => (e.seq >= 5 && e.seq <= 7 ? ({ ...e, hash: undefined } as unknown as Ev) : e)), signed, [{ kind: 'edited', from: 5, to: 7 }]],
    ['an inserted duplicate', () => [...events, { ...(events[3] as Ev), requestId: 'forged' }], signed, [{ kind: 'inserted', from: 4, to: 4 }]],
    ['a chain rebuilt from an edit without the key', () => resealFrom(events, 10, (e) => (e.status = 500)), signed, [{ kind: 'rechained', from: 9, to: 16 }]],
    ['an edited event re-hashed but not re-linked', () => {
      const out = events.map((e) => ({ ...e }));
      const e = out[11] as Ev;
      e.status = 418;
      e.hash = recomputeHash(e);
      return out;
    }, signed, [{ kind: 'rechained', from: 13, to: 13 }, { kind: 'rechained', from: 9, to: 16 }]],
    ['two events swapped and re-sealed in their new places', () => {
      const out = events.map((e) => ({ ...e }));
      const [a, b] = [out[4] as Ev, out[5] as Ev];
      [a.requestId, b.requestId] = [b.requestId, a.requestId];
      a.hash = recomputeHash(a);
      b.prevHash = (out[3] as Ev).hash;
      b.hash = recomputeHash(b);
      return out;
    }, signed, [{ kind: 'reordered', from: 6, to: 6 }, { kind: 'rechained', from: 7, to: 7 }, { kind: 'rechained', from: 1, to: 8 }]],
  ])('%s', (_name, tamper, checkpoints, expected) => {
    expect(verify(tamper(), checkpoints)).toEqual(expected);
  });

  it('says which instance and what happened in words', () => {
    const v = new ChainVerifier('gw-1', signed);
    for (const e of events.filter((x) => x.seq !== 3)) v.push(e);
    expect(v.finish()[0]?.message).toBe('instance gw-1: event 3 is missing');
  });
});

describe('putting a stream back in seq order for the verifier', () => {
  const order = (seqs: number[], limit: number) => {
    const out: number[] = [];
    const o = new SeqOrder<{ seq: number }>((e) => out.push(e.seq), limit);
    for (const seq of seqs) o.add({ seq });
    o.end();
    return out;
  };
  // every row names its bound: a row shorter than the test's parameters makes jest wait for a done callback
  it.each<[string, number[], number[], number]>([
    ['in order', [1, 2, 3, 4], [1, 2, 3, 4], 100],
    ['a swapped pair', [1, 3, 2, 4], [1, 2, 3, 4], 100],
    ['a hole', [1, 2, 4, 5], [1, 2, 4, 5], 100],
    ['a duplicate', [1, 2, 2, 3], [1, 2, 2, 3], 100],
    ['a late duplicate', [1, 2, 3, 2], [1, 2, 3, 2], 100],
    ['a hole, with the waiting bounded', [1, 3, 4, 5, 6, 2], [1, 3, 4, 5, 6, 2], 2],
  ])('%s', (_name, seqs, expected, limit) => {
    expect(order(seqs, limit)).toEqual(expected);
  });
});
