import type { FilterTests } from '../../src/dialect';
import type { MaskGuard } from '../../src/masking';
import { judgeFilters } from '../../src/policy/masked-filters';

const filter = (f: Partial<FilterTests>): FilterTests => ({ metadataKeys: [], documentOperators: [], unreadable: false, ...f });
const guard = (g: Partial<MaskGuard>): MaskGuard => ({ fields: [], documentDetectors: false, onFilter: 'refuse', ...g });
const DEMO = guard({ fields: ['metadata.email', 'metadata.customer.ssn'], documentDetectors: true });

describe('filters on masked data: refused, or reviewed, only where they test what is masked', () => {
  it.each<[string, FilterTests | undefined, MaskGuard | undefined, 'pass' | 'refuse' | 'review', string[]]>([
    ['no filter', undefined, DEMO, 'pass', []],
    ['a caller nothing is masked for (exempt or no rule)', filter({ metadataKeys: ['email'], documentOperators: ['$contains'] }), undefined, 'pass', []],
    ['a designated metadata key', filter({ metadataKeys: ['email'] }), DEMO, 'refuse', ['metadata.email']],
    ['a flat key that is a designated nested path', filter({ metadataKeys: ['customer.ssn'] }), DEMO, 'refuse', ['metadata.customer.ssn']],
    ['a key that is not designated', filter({ metadataKeys: ['team'] }), DEMO, 'pass', []],
    ['a parent of a designated path is not itself masked', filter({ metadataKeys: ['customer'] }), DEMO, 'pass', []],
    ['a key under a designated parent', filter({ metadataKeys: ['contact.email'] }), guard({ fields: ['metadata.contact'] }), 'refuse', ['metadata.contact.email']],
    ['every key when the whole metadata is designated', filter({ metadataKeys: ['team'] }), guard({ fields: ['metadata'] }), 'refuse', ['metadata.team']],
    ['a wildcard designation', filter({ metadataKeys: ['phone'] }), guard({ fields: ['metadata.*'] }), 'refuse', ['metadata.phone']],
    ['document operators where detectors apply', filter({ documentOperators: ['$contains'] }), DEMO, 'refuse', ['the document ($contains)']],
    ['document operators where no detector applies and the document is not designated', filter({ documentOperators: ['$regex'] }), guard({ fields: ['metadata.email'] }), 'pass', []],
    ['document operators on a designated document', filter({ documentOperators: ['$not_contains'] }), guard({ fields: ['document'] }), 'refuse', ['the document ($not_contains)']],
    ['a filter vecgate cannot read', filter({ unreadable: true }), DEMO, 'refuse', ['a filter vecgate cannot read']],
    ['review instead of refuse, as the rule says', filter({ metadataKeys: ['email'] }), { ...DEMO, onFilter: 'review' }, 'review', ['metadata.email']],
    // every row has all five entries: jest takes a test function with more parameters than the row for a done callback
  ])('%s', (_name, filters, g, verdict, tested) => {
    const v = judgeFilters(filters, g);
    expect(v.verdict).toBe(verdict);
    if (v.verdict !== 'pass') {
      expect(v.tested).toEqual(tested);
      expect(v.reason).toContain('masked for you');
      expect(v.reason).toContain('still work');
    }
  });
});
