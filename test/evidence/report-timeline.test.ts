import { esc } from '../../src/evidence/report';
import { timelineSvg } from '../../src/evidence/svg-timeline';

type Bucket = Parameters<typeof timelineSvg>[0][number];
const hour = (h: number, counts: Partial<Bucket> = {}): Bucket => ({ start: `2026-11-02T${String(h).padStart(2, '0')}:00:00.000Z`, allowed: 0, denied: 0, review: 0, other: 0, ...counts });
const day = (d: number, counts: Partial<Bucket> = {}): Bucket => ({ ...hour(0, counts), start: `2026-11-${String(d).padStart(2, '0')}T00:00:00.000Z` });

describe('the request timeline (inline SVG)', () => {
  it.each<[string, Bucket[], RegExp]>([
    ['labels hourly buckets with day and hour', [hour(0, { allowed: 3 }), hour(1, { allowed: 1 })], />11-02 00:00</],
    ['labels daily buckets with the date', [day(1, { allowed: 3 }), day(2, { allowed: 1 })], />2026-11-01</],
    ['says per day for daily buckets', [day(1), day(2)], /Requests per day \(UTC\), 2 buckets/],
    ['draws an empty period without bars and with an axis', [], /Requests per hour \(UTC\), 0 buckets, at most 0 in one/],
    ['rounds the axis up to a number a reader can add', [hour(0, { allowed: 113 })], />200</],
    ['stacks denied on top of allowed', [hour(0, { allowed: 10, denied: 5 })], /class="bar-allowed"[^>]*\/><rect class="bar-denied"/],
  ])('%s', (_name, buckets, expected) => {
    expect(timelineSvg(buckets, esc)).toMatch(expected);
  });

  it('gives each bucket a tooltip with its counts', () => {
    expect(timelineSvg([hour(5, { allowed: 7, denied: 2, review: 1 })], esc)).toContain('<title>2026-11-02T05:00:00.000Z: 7 allowed, 1 held for review, 2 denied, 0 other</title>');
  });

  it('labels at most about a dozen buckets, so a month of hours stays readable', () => {
    const month = Array.from({ length: 720 }, (_, i) => ({ ...hour(0, { allowed: i % 50 }), start: new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString() }));
    const svg = timelineSvg(month, esc);
    expect((svg.match(/<g><title>/g) ?? []).length).toBe(720);
    expect((svg.match(/rotate\(35\)/g) ?? []).length).toBeLessThanOrEqual(12);
  });

  it('escapes bucket labels', () => {
    expect(timelineSvg([{ ...hour(0, { allowed: 1 }), start: '<script>x</script>' }], esc)).not.toContain('<script>');
  });
});
