import { buildControlMap } from '../../src/evidence/control-map';
import { renderReport } from '../../src/evidence/report';
import type { EvidenceSummary } from '../../src/evidence/summary';
import { summaryFixture } from './support/summary-fixture';

const render = (s: EvidenceSummary): string => renderReport(s, buildControlMap(s));

const XSS = '<script>alert(1)</script>';
const ATTR = '" onmouseover="alert(2)';

/** A summary whose every user-supplied string carries markup. */
function hostileSummary(): EvidenceSummary {
  const s = summaryFixture();
  const row = s.approvals.rows[0];
  if (!row) throw new Error('fixture has approval rows');
  return summaryFixture({
    trail: {
      ...s.trail,
      instances: [`gw-${XSS}`],
      verdictLines: [`gw-a: ${XSS}`],
      byPrincipal: [{ key: `mallory${XSS}`, count: 3 }],
      byCollection: [{ key: `c${ATTR}`, count: 3 }],
      byOperation: [{ key: `<img src=x onerror=alert(3)>`, count: 3 }],
      denials: [{ time: '2026-11-02T01:00:00.000Z', principal: `eve${XSS}`, operation: 'query', collections: [`col${XSS}`], ruleId: `rule${XSS}`, code: `CODE${XSS}` }],
      masking: { ...s.trail.masking, byField: [{ key: `metadatas.${XSS}`, count: 1 }] },
      configurations: [{ sha256: `abc${XSS}`, firstSeen: '2026-11-02T00:00:00.000Z', instances: [`gw${ATTR}`] }],
      timeline: [{ start: `2026-11-02T00:00:00.000Z${XSS}`, allowed: 1, denied: 0, review: 0, other: 0 }],
    },
    approvals: {
      ...s.approvals,
      rows: [{ ...row, requester: `alice${XSS}`, reason: `because ${XSS} and ${ATTR}`, collections: [`x${XSS}`], status: `weird${XSS}`, decisions: [{ approver: `carol${XSS}`, decision: 'approve', at: '2026-11-02T09:20:41.002Z', reason: `ok ${XSS}` }] }],
      missingHistories: [`apr${XSS}`],
    },
    accessReview: {
      principals: [{ principal: `p${XSS}`, groups: [`g${XSS}`], allowed: [{ key: `read ${XSS}`, count: 1 }], used: [], denied: 0, exports: 0, masked: 0 }],
      groups: [{ group: `g${XSS}`, rules: [`r${XSS}`], members: 1, used: [] }],
    },
    files: { events: [`trail/${XSS}.jsonl`] },
  });
}

describe('report.html', () => {
  const html = render(summaryFixture());

  it('is one self-contained document that forbids every fetch by its Content-Security-Policy', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(src|href|action|xlink:href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
  });

  it('contains no URL anywhere', () => {
    expect(html).not.toMatch(/[a-z][a-z0-9+.-]*:\/\//i);
  });

  it.each([
    ['period', '2026-11-02T00:00:00.000Z'],
    ['verdict', 'id="verdict" data-verdict="ok"'],
    ['verdict line', 'gw-a: 702 events, chain intact'],
    ['approver with decision and time', 'by carol@example.com at <time datetime="2026-11-02T09:20:41.002Z">'],
    ['approver who denied', '<span class="dec dec-deny">denied</span> by dave@example.com'],
    ['expired approval', '<span class="status status-expired">expired</span>'],
    ['execution result', 'HTTP 200, 48,213 bytes'],
    ['denial rule', '<code>deny-delete-prod</code>'],
    ['masking total', '15,873 values masked in 640 requests'],
    ['configuration hash', '1f2e3d4c5b6a79881f2e3d4c5b6a7988'],
    ['control map 2022', '<strong>8.15</strong>'],
    ['control map 2013', '<strong>A.12.4.4</strong>'],
    ['control map source', 'ISO/IEC 27002:2022 Annex B'],
    ['unused right in the access review', '<span class="unused">read tickets</span>'],
    ['masked export note', 'id="masked"'],
  ])('shows the %s', (_what, fragment) => {
    expect(html).toContain(fragment);
  });

  it('draws one timeline bar group per bucket, stacked by outcome', () => {
    const groups = html.match(/<g><title>/g) ?? [];
    expect(groups).toHaveLength(24);
    expect(html).toMatch(/class="bar-denied"/);
    expect(html).toMatch(/class="bar-review"/);
  });

  it.each([
    ['failed', 'verdict-failed', 'FAILED'],
    ['unverified', 'verdict-unverified', 'UNVERIFIED'],
  ] as const)('shows a %s trail as %s', (verdict, cls, word) => {
    const s = summaryFixture();
    const out = render(summaryFixture({ trail: { ...s.trail, verdict } }));
    expect(out).toContain(`class="verdict ${cls}"`);
    expect(out).toContain(`<span class="verdict-word">${word}</span>`);
  });

  it('says loudly that an export is unmasked', () => {
    const out = render(summaryFixture({ unmasked: true }));
    expect(out).toContain('id="unmasked" role="alert"><strong>UNMASKED EXPORT.</strong>');
    expect(out).not.toContain('id="masked"');
  });

  it('says how many approvals are left out of the table, and where they are', () => {
    const s = summaryFixture();
    const out = render(summaryFixture({ approvals: { ...s.approvals, total: 1003, rowsOmitted: 1000 } }));
    expect(out).toMatch(/id="rows-omitted">1,000 more approvals are not shown here; approvals\/approvals\.csv/);
  });

  it('lists approvals whose Temporal history is gone, and says when Temporal was not reached', () => {
    const s = summaryFixture();
    const out = render(summaryFixture({ approvals: { ...s.approvals, missingHistories: ['apr-0099'], temporalReached: false } }));
    expect(out).toContain('<code>apr-0099</code>');
    expect(out).toContain('Temporal was not reached');
  });

  it('escapes every string from the summary: names, reasons, rules, paths and times', () => {
    const out = render(hostileSummary());
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img/i);
    expect(out).not.toContain('" onmouseover="');
    expect(out).toContain('alice&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('because &lt;script&gt;alert(1)&lt;/script&gt; and &quot; onmouseover=&quot;alert(2)');
    expect(out).toContain('carol&lt;script&gt;');
    expect(out).toContain('mallory&lt;script&gt;');
    expect(out).toContain('&lt;img src=x onerror=alert(3)&gt;');
    // every markup-bearing input ended up escaped: count them
    expect((out.match(/&lt;script&gt;/g) ?? []).length).toBeGreaterThanOrEqual(20);
  });
});
