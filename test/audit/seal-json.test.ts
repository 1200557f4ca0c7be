import { GENESIS, recomputeHash, seal, sealJson } from '../../src/audit/sequencer';

describe('sealJson (the trail serialises an event once)', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['dates become ISO strings', { requestId: 'r1', time: new Date('2026-11-30T10:00:00.123Z'), status: 200 }],
    ['undefined fields are left out, undefined array items become null', { requestId: 'r2', error: undefined, list: [1, undefined, 'x'], nested: { a: undefined, b: 2 } }],
    ['NaN and Infinity become null as in JSON', { requestId: 'r3', latencyMs: Number.NaN, bytes: Number.POSITIVE_INFINITY }],
    ['keys in any order and non-ASCII text', { z: 'ünïcödé ✓', a: { y: [3, 2, 1], b: null }, requestId: 'r4' }],
  ];

  test.each(cases)('%s: the same hash and head as seal(), and JSON that parses to the sealed event', (_name, record) => {
    const first = seal(GENESIS, 'gw-1', { requestId: 'r0' });
    const expected = seal(first.head, 'gw-1', record);
    const sealed = sealJson(first.head, 'gw-1', record);
    expect(sealed.head).toEqual(expected.head);
    expect(sealed.seq).toBe(2);
    const parsed = JSON.parse(sealed.json) as Record<string, unknown>;
    expect(parsed).toEqual(JSON.parse(JSON.stringify(expected.event)));
    expect(recomputeHash(parsed)).toBe(parsed.hash);
  });
});
