import type { PolicyRule } from '../../src/config/schema';
import { compilePolicy, decide, DEFAULT_DENY_RULE, type PolicyQuestion } from '../../src/policy/evaluate';

const rule = (r: Partial<PolicyRule> & Pick<PolicyRule, 'id' | 'effect' | 'operations'>): PolicyRule => ({
  groups: ['*'],
  connections: ['*'],
  collections: ['*'],
  ...r,
});

const rules: PolicyRule[] = [
  rule({ id: 'meta-for-all', effect: 'allow', operations: ['meta'] }),
  rule({ id: 'ds-use-docs', effect: 'allow', groups: ['data-scientists'], connections: ['demo'], collections: ['docs-*'], operations: ['search', 'read', 'write'] }),
  rule({ id: 'ds-export-review', effect: 'review', groups: ['data-scientists'], connections: ['demo'], collections: ['docs-*'], operations: ['export', 'delete'] }),
  rule({ id: 'no-hr', effect: 'deny', groups: ['*'], collections: ['hr-*'], operations: ['*'] }),
  rule({ id: 'stewards-all', effect: 'allow', groups: ['data-stewards'], operations: ['*'] }),
  rule({ id: 'analysts-list', effect: 'allow', groups: ['analysts'], connections: ['demo'], operations: ['read'] }),
  rule({ id: 'stewards-reset-review', effect: 'review', groups: ['data-stewards'], operations: ['admin'] }),
];
const policy = compilePolicy(rules);

const q = (over: Partial<PolicyQuestion>): PolicyQuestion => ({
  subject: 'alice',
  groups: ['data-scientists'],
  connection: 'demo',
  operation: 'search',
  collections: ['docs-a'],
  ...over,
});

describe('policy precedence: deny > review > allow > default deny', () => {
  test.each<[string, Partial<PolicyQuestion>, string, string]>([
    ['a granted group searches a matching collection', {}, 'allow', 'ds-use-docs'],
    ['the same group on another connection is denied by default', { connection: 'prod' }, 'deny', DEFAULT_DENY_RULE],
    ['a collection outside the pattern is denied by default', { collections: ['sales'] }, 'deny', DEFAULT_DENY_RULE],
    ['export of a granted collection needs review', { operation: 'export' }, 'review', 'ds-export-review'],
    ['an operation nobody granted is denied by default', { operation: 'schema' }, 'deny', DEFAULT_DENY_RULE],
    ['an explicit deny beats an allow for everyone', { groups: ['data-stewards'], collections: ['hr-payroll'] }, 'deny', 'no-hr'],
    ['an allow-all group still cannot pass a deny', { groups: ['data-stewards', 'data-scientists'], collections: ['hr-x'], operation: 'read' }, 'deny', 'no-hr'],
    ['review beats allow for the same request', { groups: ['data-stewards'], collections: [], operation: 'admin' }, 'review', 'stewards-reset-review'],
    ['meta is allowed to any authenticated caller, even without groups', { groups: [], collections: [], operation: 'meta' }, 'allow', 'meta-for-all'],
    ['a caller without groups gets nothing else', { groups: [], operation: 'search' }, 'deny', DEFAULT_DENY_RULE],
    ['a connection-level request needs a rule covering every collection', { collections: [], operation: 'read' }, 'deny', DEFAULT_DENY_RULE],
    ['a rule with collections "*" covers connection-level requests', { groups: ['analysts'], collections: [], operation: 'read' }, 'allow', 'analysts-list'],
    ['group names are matched exactly, not as prefixes', { groups: ['data-scientists-old'] }, 'deny', DEFAULT_DENY_RULE],
    ['patterns do not match case-insensitively', { collections: ['DOCS-a'] }, 'deny', DEFAULT_DENY_RULE],
    ['several collections: the strictest decision wins', { collections: ['docs-a', 'sales'] }, 'deny', DEFAULT_DENY_RULE],
    ['several collections, all granted', { collections: ['docs-a', 'docs-b'] }, 'allow', 'ds-use-docs'],
  ])('%s', (_name, over, effect, ruleId) => {
    const d = decide(policy, q(over));
    expect(d.effect).toBe(effect);
    expect(d.ruleId).toBe(ruleId);
    expect(d.explanation.length).toBeGreaterThan(10);
  });

  test('the explanation names the rule, the operation and the target', () => {
    const d = decide(policy, q({ operation: 'export' }));
    expect(d.explanation).toBe('Rule "ds-export-review" requires approval for export on collection "docs-a" of connection "demo".');
    expect(d.collection).toBe('docs-a');
  });

  test('a default deny says who asked and with which groups', () => {
    const d = decide(policy, q({ subject: 'bob', groups: ['analysts'], collections: ['sales'] , operation: 'search'}));
    expect(d.explanation).toContain('bob (groups: analysts)');
    expect(d.explanation).toContain('denied by default');
    expect(d.collection).toBe('sales');
  });

  test('an empty policy denies everything', () => {
    expect(decide(compilePolicy([]), q({})).effect).toBe('deny');
  });

  test('the first rule of the winning effect is cited', () => {
    const p = compilePolicy([
      rule({ id: 'first', effect: 'allow', operations: ['search'] }),
      rule({ id: 'second', effect: 'allow', operations: ['search'] }),
    ]);
    expect(decide(p, q({})).ruleId).toBe('first');
  });
});

// THREATS 33: a rule speaks for the tenants and databases it names, and by default only for Chroma's defaults
describe('tenants and databases', () => {
  const scoped = compilePolicy([
    rule({ id: 'ds-docs', effect: 'allow', groups: ['data-scientists'], collections: ['docs-*'], operations: ['read'] }),
    rule({ id: 'ds-acme-prod', effect: 'allow', groups: ['data-scientists'], tenants: ['acme*'], databases: ['prod'], collections: ['docs-*'], operations: ['read'] }),
    rule({ id: 'stewards-list-any', effect: 'allow', groups: ['data-stewards'], tenants: ['*'], databases: ['*'], operations: ['read'] }),
    rule({ id: 'no-hr-anywhere', effect: 'deny', groups: ['*'], tenants: ['*'], databases: ['*'], collections: ['hr-*'], operations: ['*'] }),
    rule({ id: 'meta-default-only', effect: 'allow', operations: ['meta'] }),
  ]);
  const ask = (over: Partial<PolicyQuestion>) => decide(scoped, q({ operation: 'read', ...over }));

  test.each<[string, Partial<PolicyQuestion>, string, string]>([
    ['a rule without tenants covers the default tenant and database', { tenant: 'default_tenant', database: 'default_database' }, 'allow', 'ds-docs'],
    ['a rule without tenants does not cover another tenant', { tenant: 'globex', database: 'default_database' }, 'deny', DEFAULT_DENY_RULE],
    ['a rule without databases does not cover another database of the default tenant', { tenant: 'default_tenant', database: 'prod' }, 'deny', DEFAULT_DENY_RULE],
    ['a rule naming tenant and database covers them', { tenant: 'acme-eu', database: 'prod' }, 'allow', 'ds-acme-prod'],
    ['... but not another database of that tenant', { tenant: 'acme-eu', database: 'staging' }, 'deny', DEFAULT_DENY_RULE],
    ['a deny for every tenant reaches every tenant', { groups: ['data-stewards'], tenant: 'acme', database: 'prod', collections: ['hr-pay'] }, 'deny', 'no-hr-anywhere'],
    ['a connection-level request is judged in its tenant and database', { groups: ['data-stewards'], tenant: 'acme', database: 'prod', collections: [] }, 'allow', 'stewards-list-any'],
    ['a connection-level request in another tenant is not covered by a default-scope rule', { tenant: 'acme', collections: [], operation: 'meta' }, 'deny', DEFAULT_DENY_RULE],
    ['a request naming only a tenant is judged on the tenant alone', { tenant: 'default_tenant', collections: [], operation: 'meta' }, 'allow', 'meta-default-only'],
    ['a request naming no scope (a server probe) is not judged on scope', { collections: [], operation: 'meta' }, 'allow', 'meta-default-only'],
  ])('%s', (_name, over, effect, ruleId) => {
    const d = ask(over);
    expect([d.effect, d.ruleId]).toEqual([effect, ruleId]);
  });

  test('the explanation names a tenant and database other than the defaults', () => {
    expect(ask({ tenant: 'acme', database: 'prod', collections: ['docs-a'] }).explanation).toContain('collection "docs-a" of connection "demo" in tenant "acme", database "prod"');
    expect(ask({ tenant: 'default_tenant', database: 'default_database' }).explanation).not.toContain('tenant');
  });
});
