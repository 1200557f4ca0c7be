import type { PolicyRule } from '../../src/config/schema';
import { compilePolicy } from '../../src/policy/evaluate';
import { visibleListing } from '../../src/policy/visibility';

const rule = (r: Partial<PolicyRule> & Pick<PolicyRule, 'id' | 'effect' | 'operations'>): PolicyRule => ({ groups: ['*'], connections: ['*'], collections: ['*'], ...r });

const policy = compilePolicy([
  rule({ id: 'stewards-list', effect: 'allow', groups: ['data-stewards'], operations: ['read'] }),
  rule({ id: 'scientists-docs', effect: 'allow', groups: ['data-scientists'], collections: ['docs-*'], operations: ['read'] }),
  rule({ id: 'scientists-secret-review', effect: 'review', groups: ['data-scientists'], collections: ['secret-*'], operations: ['read'] }),
  rule({ id: 'nobody-touches-hr', effect: 'deny', tenants: ['*'], databases: ['*'], collections: ['hr-*'], operations: ['*'] }),
]);
const scope = { tenant: 'default_tenant', database: 'default_database' };
const listed = ['docs-a', 'hr-pay', 'misc', 'secret-x', 'hr-reviews', 'docs-b'].map((name, i) => ({ identity: { id: `id-${i}`, name }, item: { name } }));
const names = (r: { page: Array<{ item: { name: string } }> }) => r.page.map((c) => c.item.name);

describe('visible listing (THREATS 33)', () => {
  test.each<[string, string[], string[], number]>([
    ['a steward sees everything but what a deny rule forbids', ['data-stewards'], ['docs-a', 'misc', 'secret-x', 'docs-b'], 2],
    ['a scientist sees what they may read, and what they may read with approval', ['data-scientists'], ['docs-a', 'secret-x', 'docs-b'], 3],
    ['a caller no rule grants anything sees nothing', ['analysts'], [], 6],
  ])('%s', (_name, groups, expected, hidden) => {
    const r = visibleListing(policy, { subject: 's', groups, connection: 'demo' }, scope, listed, { offset: 0 });
    expect([names(r), r.visible, r.hidden]).toEqual([expected, expected.length, hidden]);
  });

  test.each<[{ limit?: number; offset: number }, string[]]>([
    [{ limit: 2, offset: 0 }, ['docs-a', 'misc']],
    [{ limit: 2, offset: 1 }, ['misc', 'secret-x']],
    [{ offset: 3 }, ['docs-b']],
    [{ limit: 0, offset: 0 }, []],
    [{ limit: 10, offset: 9 }, []],
  ])('the page %j applies to the visible list', (page, expected) => {
    const r = visibleListing(policy, { subject: 's', groups: ['data-stewards'], connection: 'demo' }, scope, listed, page);
    expect([names(r), r.visible]).toEqual([expected, 4]);
  });

  test('the listing is judged in its tenant and database', () => {
    const r = visibleListing(policy, { subject: 's', groups: ['data-stewards'], connection: 'demo' }, { tenant: 'acme', database: 'prod' }, listed, { offset: 0 });
    expect([names(r), r.hidden]).toEqual([[], 6]);
  });

  test('a listed collection whose name could not be read is left out', () => {
    const unreadable: Array<{ identity?: { id: string; name: string }; item: { name: string } }> = [{ item: { name: '?' } }, ...listed.slice(0, 1)];
    const r = visibleListing(policy, { subject: 's', groups: ['data-stewards'], connection: 'demo' }, scope, unreadable, { offset: 0 });
    expect([names(r), r.hidden]).toEqual([['docs-a'], 1]);
  });
});
