import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load';
import { dialectFor } from '../../src/dialect';
import { explain } from '../../src/policy/explain';

const { config } = parseConfig(readFileSync(join(__dirname, '../../config/demo.yaml'), 'utf8'), 'demo.yaml', {
  OIDC_ISSUER: 'http://idp.example',
  CHROMA_URL: 'http://127.0.0.1:8000',
  MONGODB_URI: 'mongodb://127.0.0.1/',
});
const P = '/api/v2/tenants/default_tenant/databases/default_database';
const ID = '0a6a4c1e-3b7a-4c52-9a57-0b9a1e2f3c4d';

describe('policy explain, on the demo configuration', () => {
  test.each<[string, Parameters<typeof explain>[2], string, string]>([
    ['a scientist querying docs', { subject: 'alice', groups: ['data-scientists'], connection: 'demo', request: { method: 'post', path: `${P}/collections/${ID}/query`, body: { query_embeddings: [[1]] } }, collections: ['docs-demo'] }, 'allow', 'scientists-use-docs'],
    ['a scientist exporting docs', { subject: 'alice', groups: ['data-scientists'], connection: 'demo', request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: { limit: 10 } }, collections: ['docs-demo'] }, 'review', 'scientists-bulk-needs-approval'],
    ['anyone on HR', { subject: 'carol', groups: ['data-stewards'], connection: 'demo', operation: 'read', collections: ['hr-payroll'] }, 'deny', 'nobody-touches-hr'],
    ['an analyst with no rule', { subject: 'bob', groups: ['analysts'], connection: 'demo', operation: 'search', collections: ['docs-demo'] }, 'deny', 'default-deny'],
    ['a heartbeat, for anyone', { subject: 'dave', groups: [], connection: 'demo', request: { method: 'GET', path: '/api/v2/heartbeat' } }, 'allow', 'everyone-meta'],
    ['an unknown endpoint', { subject: 'carol', groups: ['data-stewards'], connection: 'demo', request: { method: 'GET', path: '/api/v1/collections' } }, 'deny', 'unknown-endpoint'],
  ])('%s', (_n, question, effect, rule) => {
    const e = explain(config, dialectFor, question);
    expect(e.decision.effect).toBe(effect);
    expect(e.decision.ruleId).toBe(rule);
    expect(e.lines.join('\n')).toContain(effect === 'deny' && rule === 'unknown-endpoint' ? 'denied by default' : rule);
  });

  test('a request by collection id without --collection asks for the name', () => {
    expect(() => explain(config, dialectFor, { subject: 'a', groups: [], connection: 'demo', request: { method: 'POST', path: `${P}/collections/${ID}/query`, body: {} } })).toThrow(/pass --collection NAME/);
  });

  test('an unknown connection is named', () => {
    expect(() => explain(config, dialectFor, { subject: 'a', groups: [], connection: 'prod', operation: 'read' })).toThrow(/connection "prod" is not in the configuration \(known: demo\)/);
  });

  test('the explanation says the class and why', () => {
    const e = explain(config, dialectFor, { subject: 'alice', groups: ['data-scientists'], connection: 'demo', request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: {} }, collections: ['docs-demo'] });
    expect(e.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^class: export \(bulk\): /), 'outcome: REVIEW by rule scientists-bulk-needs-approval']));
  });

  test('the explanation names the tenant and database, and what the deciding rule covers (THREATS 33)', () => {
    const e = explain(config, dialectFor, { subject: 'alice', groups: ['data-scientists'], connection: 'demo', request: { method: 'GET', path: '/api/v2/tenants/acme/databases/prod/collections/docs-secret' } });
    expect(e.scope).toEqual({ tenant: 'acme', database: 'prod' });
    expect(e.decision.ruleId).toBe('default-deny');
    expect(e.lines).toContain('scope: tenant "acme", database "prod"');
    const granted = explain(config, dialectFor, { subject: 'alice', groups: ['data-scientists'], connection: 'demo', operation: 'read', collections: ['docs-a'], tenant: 'default_tenant', database: 'default_database' });
    expect(granted.decision.ruleId).toBe('scientists-use-docs');
    expect(granted.lines).toContain('rule scientists-use-docs covers tenants: default_tenant; databases: default_database');
  });

  test('an allowed search shows the record limits, and a request over them is explained as export', () => {
    const q = { subject: 'alice', groups: ['data-scientists'], connection: 'demo', collections: ['docs-demo'] };
    const small = explain(config, dialectFor, { ...q, request: { method: 'POST', path: `${P}/collections/${ID}/query`, body: { query_embeddings: [[1]], n_results: 5 } } });
    expect(small.decision.effect).toBe('allow');
    expect(small.volume).toBe('a search or read asking for more than 50 records in one request (rule "scientists-use-docs"), or more than 200 records to one principal from one collection within 300 s (rule "scientists-use-docs") counts as export');
    const large = explain(config, dialectFor, { ...q, request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: { ids: Array.from({ length: 400 }, (_, i) => `r${i}`) } } });
    expect(large.decision).toMatchObject({ effect: 'review', ruleId: 'scientists-bulk-needs-approval' });
    expect(large.decision.explanation).toContain('The read counts as export: it asks for 400 records, more than the 50 per request');
    expect(large.lines).toContain('records asked for: 400');
  });

  test('a masked caller is told which filters are refused, and a filter on masked data is explained as refused', () => {
    const q = { subject: 'alice', groups: ['data-scientists'], connection: 'demo', collections: ['docs-demo'] };
    const oracle = explain(config, dialectFor, { ...q, request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: { ids: ['x'], where: { email: 'jane@example.com' } } } });
    expect(oracle.decision).toMatchObject({ effect: 'deny', ruleId: 'filter-on-masked' });
    expect(oracle.filtersOnMasked).toMatch(/metadata\.email.*document text .* are refused \(FILTER_ON_MASKED\) for this caller; other filters work/);
    const ordinary = explain(config, dialectFor, { ...q, request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: { ids: ['x'], where: { team: 'ml' } } } });
    expect(ordinary.decision.effect).toBe('allow');
    const exempt = explain(config, dialectFor, { ...q, groups: ['data-scientists', 'pii-readers'], request: { method: 'POST', path: `${P}/collections/${ID}/get`, body: { ids: ['x'], where: { email: 'jane@example.com' } } } });
    expect(exempt.decision.effect).toBe('allow');
    expect(exempt.filtersOnMasked).toBeUndefined();
  });
});
