import type { OperationClass, RequestedRecords } from '../../src/dialect';
import { effectiveLimits, judgeVolume, type EffectiveLimits, type Usage } from '../../src/volume';

const RULE = 'rule "scientists-use-docs"';
const LIMITS: EffectiveLimits = { maxRecordsPerRequest: { records: 50, source: RULE }, window: { records: 200, seconds: 300, source: RULE } };
const trusted = (records: number): Usage => ({ records, trusted: true });
const unreachable = (records: number): Usage => ({ records, trusted: false });

describe('volume: when an allowed search or read counts as export', () => {
  it.each<[string, OperationClass, RequestedRecords | undefined, EffectiveLimits | undefined, Usage | undefined, false | RegExp]>([
    ['within both limits', 'search', 10, LIMITS, trusted(0), false],
    ['exactly the per-request limit', 'read', 50, LIMITS, trusted(0), false],
    ['one more than the per-request limit', 'read', 51, LIMITS, trusted(0), /asks for 51 records, more than the 50 per request that rule "scientists-use-docs" allows/],
    ['an unbounded request under a per-request limit', 'read', 'unbounded', LIMITS, trusted(0), /an unbounded number of records/],
    ['a request that fills the window exactly', 'read', 20, LIMITS, trusted(180), false],
    ['a request that would pass the window', 'read', 20, LIMITS, trusted(181), /you were sent 181 records .* within the last 300 s and ask for 20 records, which would pass the 200 per 300 s/],
    ['any request once the window is full', 'search', 1, LIMITS, trusted(200), /pass the 200 per 300 s/],
    ['an unbounded request under a window only', 'read', 'unbounded', { window: LIMITS.window }, trusted(0), /unbounded/],
    ['store unreachable: within the allowance', 'read', 10, LIMITS, unreachable(10), false],
    ['store unreachable: past the allowance', 'read', 10, LIMITS, unreachable(11), /cannot be reached, so only 20 records per 300 s/],
    ['store unreachable and no usage known', 'read', 21, { window: LIMITS.window }, undefined, /cannot be reached/],
    ['no limits', 'read', 10_000, undefined, undefined, false],
    ['a request that asks for no records (a count)', 'read', undefined, LIMITS, trusted(500), false],
    ['an export keeps its class', 'export', 'unbounded', LIMITS, trusted(500), false],
    ['a write is not measured', 'write', 1000, LIMITS, trusted(500), false],
  ])('%s', (_name, operation, requested, limits, usage, expected) => {
    const verdict = judgeVolume({ operation, requested, limits, usage, unreachableAllowance: 20 });
    if (expected === false) expect(verdict).toEqual({ export: false });
    else expect(verdict.export && verdict.reason).toMatch(expected);
  });
});

describe('volume: the limits in force', () => {
  it.each<[string, Parameters<typeof effectiveLimits>[0], Parameters<typeof effectiveLimits>[2], EffectiveLimits | undefined]>([
    ['neither sets any', undefined, undefined, undefined],
    ['the connection default', undefined, { maxRecordsPerRequest: 100 }, { maxRecordsPerRequest: { records: 100, source: 'connection "demo"' } }],
    ['the rule overrides the connection, field by field', { maxRecordsPerRequest: 50 }, { maxRecordsPerRequest: 100, window: { records: 1000, seconds: 60 } }, {
      maxRecordsPerRequest: { records: 50, source: 'rule "r"' },
      window: { records: 1000, seconds: 60, source: 'connection "demo"' },
    }],
    ['the rule alone', { window: { records: 5, seconds: 10 } }, undefined, { window: { records: 5, seconds: 10, source: 'rule "r"' } }],
  ])('%s', (_name, rule, conn, expected) => {
    expect(effectiveLimits(rule, 'r', conn, 'demo')).toEqual(expected);
  });
});
