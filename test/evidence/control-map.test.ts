import { buildControlMap, controlMapCsv, type ControlEntry } from '../../src/evidence/control-map';
import { summaryFixture } from './support/summary-fixture';

/** ISO/IEC 27002:2022 Annex B, Table B.1, for the controls vecgate evidences. */
const ANNEX_B: Array<[string, string[]]> = [
  ['5.3', ['A.6.1.2']],
  ['5.15', ['A.9.1.1', 'A.9.1.2']],
  ['5.16', ['A.9.2.1']],
  ['5.18', ['A.9.2.2', 'A.9.2.5', 'A.9.2.6']],
  ['5.28', ['A.16.1.7']],
  ['5.33', ['A.18.1.3']],
  ['5.34', ['A.18.1.4']],
  ['8.2', ['A.9.2.3']],
  ['8.3', ['A.9.4.1']],
  ['8.5', ['A.9.4.2']],
  ['8.11', []],
  ['8.12', []],
  ['8.15', ['A.12.4.1', 'A.12.4.2', 'A.12.4.3']],
  ['8.16', []],
  ['8.17', ['A.12.4.4']],
  ['8.24', ['A.10.1.1', 'A.10.1.2']],
  ['8.32', ['A.12.1.2', 'A.14.2.2', 'A.14.2.3', 'A.14.2.4']],
];

const summary = summaryFixture();
const map = buildControlMap(summary);
const find = (edition: '2022' | '2013', id: string): ControlEntry => {
  const found = map.controls.find((c) => c.edition === edition && c.id === id);
  if (!found) throw new Error(`${edition} ${id} missing from the control map`);
  return found;
};
const listed = new Set(Object.values(summary.files).flat());

describe('the ISO 27001 control map', () => {
  it('cites ISO/IEC 27002:2022 Annex B as the source of the correspondence', () => {
    expect(map.source).toMatch(/ISO\/IEC 27002:2022 Annex B/);
  });

  describe.each(ANNEX_B)('2022 control %s', (id, from2013) => {
    it('is present with a title, a statement of how vecgate supports it, and counts', () => {
      const c = find('2022', id);
      expect(c.title.length).toBeGreaterThan(3);
      expect(c.how.length).toBeGreaterThan(40);
      expect(Object.keys(c.counts).length).toBeGreaterThan(0);
      expect(c.confirmed).toBe(true);
    });

    it(`corresponds to ${from2013.length === 0 ? 'no 2013 control (new in 2022)' : from2013.join(', ')} as Annex B says`, () => {
      const c = find('2022', id);
      expect(c.corresponds).toEqual(from2013);
      if (from2013.length === 0) expect(c.findings).toContain('new in ISO/IEC 27001:2022: no 2013 counterpart in Annex B');
    });

    it('names only files the summary lists, and at least one', () => {
      const c = find('2022', id);
      expect(c.evidence.length).toBeGreaterThan(0);
      for (const path of c.evidence) expect(listed).toContain(path);
    });

  });

  it.each(ANNEX_B.flatMap(([id, old]) => old.map((o) => [o, id] as const)))('has the 2013 control %s, pointing back to %s with the same evidence and counts', (oldId, id) => {
    const old = find('2013', oldId);
    const c = find('2022', id);
    expect(old.corresponds).toEqual([id]);
    expect(old.evidence).toEqual(c.evidence);
    expect(old.counts).toEqual(c.counts);
    expect(old.title.length).toBeGreaterThan(3);
  });

  it('has no 2013 entry that Annex B does not give', () => {
    const expected = ANNEX_B.flatMap(([, old]) => old).sort();
    const actual = map.controls.filter((c) => c.edition === '2013').map((c) => c.id).sort();
    expect(actual).toEqual(expected);
  });

  it('names the 2013 controls in A.9.1.1-A.9.4.2 that it does not evidence, with the reason', () => {
    const gaps = (map.notEvidenced ?? []).map((g) => g.id);
    expect(gaps).toEqual(expect.arrayContaining(['A.9.2.4', 'A.9.3.1', '5.17']));
    for (const g of map.notEvidenced ?? []) expect(map.controls.some((c) => c.id === g.id)).toBe(false);
  });

  it.each<[string, string, (s: ReturnType<typeof summaryFixture>) => number]>([
    ['8.15', 'events', (s) => s.trail.events],
    ['8.15', 'instances', (s) => s.trail.instances.length],
    ['5.18', 'principalsReviewed', (s) => s.accessReview.principals.length],
    ['8.2', 'approvals', (s) => s.approvals.total],
    ['8.2', 'executed', (s) => s.approvals.executed],
    ['8.11', 'valuesMasked', (s) => s.trail.masking.valuesMasked],
    ['5.28', 'histories', (s) => s.files.histories?.length ?? 0],
    ['5.28', 'checkpointFiles', (s) => s.files.checkpoints?.length ?? 0],
    ['8.32', 'configurations', (s) => s.trail.configurations.length],
    ['8.12', 'exports', (s) => s.trail.exports],
  ])('%s counts %s from the summary', (id, key, from) => {
    expect(find('2022', id).counts[key]).toBe(from(summary));
    // and follows it when the summary changes
    const other = summaryFixture({
      trail: { ...summary.trail, events: 7, instances: ['x'], exports: 9, masking: { ...summary.trail.masking, valuesMasked: 11 }, configurations: [] },
      approvals: { ...summary.approvals, total: 13, executed: 0 },
      accessReview: { principals: [], groups: [] },
      files: { ...summary.files, histories: ['approvals/histories/a/b.json'], checkpoints: [] },
    });
    const again = buildControlMap(other).controls.find((c) => c.edition === '2022' && c.id === id);
    expect(again?.counts[key]).toBe(from(other));
  });

  it('derives 5.18 unused rights and 8.5 authentication failures from the summary', () => {
    expect(find('2022', '5.18').counts.principalsWithUnusedRights).toBe(1); // alice may read tickets and did not
    expect(find('2022', '8.5').counts.authenticationFailures).toBe(1); // the TOKEN_INVALID denial
    expect(find('2022', '8.12').counts.filtersOnMaskedRefused).toBe(1);
  });

  it('states the trail verdict under logging and collection of evidence', () => {
    const failed = buildControlMap(summaryFixture({ trail: { ...summary.trail, verdict: 'failed', verdictLines: ['gw-a: event 17 edited'] } }));
    const logging = failed.controls.find((c) => c.edition === '2022' && c.id === '8.15');
    expect(logging?.findings).toEqual(expect.arrayContaining(['audit trail verification: failed', 'gw-a: event 17 edited']));
    expect(failed.controls.find((c) => c.id === 'A.16.1.7')?.findings).toContain('audit trail verification: failed');
  });

  it('records an unmasked export under PII protection and data masking', () => {
    const unmasked = buildControlMap(summaryFixture({ unmasked: true }));
    for (const id of ['5.34', '8.11']) expect(unmasked.controls.find((c) => c.edition === '2022' && c.id === id)?.findings?.join(' ')).toMatch(/UNMASKED/);
  });

  it('says 8.17 clock synchronisation is supported only by recorded times', () => {
    expect(find('2022', '8.17').how).toMatch(/only by recorded times/);
  });

  it('leaves evidence empty rather than inventing files when the summary lists none', () => {
    const bare = buildControlMap(summaryFixture({ files: {} }));
    for (const c of bare.controls) expect(c.evidence).toEqual([]);
  });

  it('writes a CSV with one row per control and edition, quoting and defusing formulas', () => {
    const hostile = buildControlMap(summaryFixture({ files: { events: ['=HYPERLINK("x"),evil.jsonl'] } }));
    const csv = controlMapCsv(hostile);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('edition,control,title,corresponds,how,evidence,counts,findings');
    expect(lines).toHaveLength(1 + hostile.controls.length);
    expect(csv).toContain('"\'=HYPERLINK(""x""),evil.jsonl');
    expect(controlMapCsv(map)).toMatch(/\r\n2022,8\.15,Logging,A\.12\.4\.1 A\.12\.4\.2 A\.12\.4\.3,/);
  });
});

describe('the control map with many files of one kind', () => {
  const histories = Array.from({ length: 10_000 }, (_, i) => `approvals/histories/apr-${i}/run-${i}.json`);
  const big = buildControlMap(summaryFixture({ files: { ...summaryFixture().files, histories } }));

  it('cites their folder instead of every file, and the folder holds them', () => {
    const c = big.controls.find((x) => x.edition === '2022' && x.id === '5.28');
    expect(c?.evidence).toContain('approvals/histories/');
    expect(c?.evidence.some((p) => p.endsWith('.json') && p.startsWith('approvals/histories/'))).toBe(false);
    expect(c?.counts.histories).toBe(10_000);
    expect(JSON.stringify(big).length).toBeLessThan(100_000);
  });
});
