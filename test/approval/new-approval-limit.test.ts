import { queryLiteral, retryAfterLimit } from '../../src/approval/new-approval-limit';

const NOW = 1_800_000_000_000;
const S = 1000;
const limit = { count: 3, seconds: 60 };

describe('retryAfterLimit', () => {
  it.each<[string, number[], number | undefined]>([
    ['none yet', [], undefined],
    ['fewer than the limit', [NOW - 10 * S, NOW - 5 * S], undefined],
    ['at the limit: the next fits when the oldest leaves the window', [NOW - 5 * S, NOW - 50 * S, NOW - 20 * S], NOW - 50 * S + 60 * S],
    ['past the limit (asks in flight): when enough have left', [NOW - 1 * S, NOW - 2 * S, NOW - 30 * S, NOW - 40 * S, NOW - 50 * S], NOW - 30 * S + 60 * S],
    ['older ones do not count', [NOW - 61 * S, NOW - 70 * S, NOW - 5 * S, NOW - 6 * S], undefined],
    ['one exactly a window ago does not count', [NOW - 60 * S, NOW - 5 * S, NOW - 6 * S], undefined],
  ])('%s', (_what, starts, expected) => {
    expect(retryAfterLimit(starts, limit, NOW)).toBe(expected);
  });
});

describe('queryLiteral', () => {
  it.each([
    ['u-1001-alice', "'u-1001-alice'"],
    ["o'brien", "'o\\'brien'"],
    ['a\\b', "'a\\\\b'"],
    ["x\\' OR 1=1", "'x\\\\\\' OR 1=1'"],
  ])('quotes %j', (value, expected) => {
    expect(queryLiteral(value)).toBe(expected);
  });
});
