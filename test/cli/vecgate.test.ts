import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built CLI, as an operator runs it (scripts/test.sh builds dist/ before jest). */
const root = join(__dirname, '../..');
const env = {
  ...process.env,
  OIDC_ISSUER: 'http://idp.example',
  CHROMA_URL: 'http://127.0.0.1:8000',
  MONGODB_URI: 'mongodb://127.0.0.1/',
  // what `vecgate dev` sets for the demo: a decider public key and when the demo approver was checked
  VECGATE_DECIDER_PUBLIC_KEY: generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  VECGATE_DEMO_APPROVER_VERIFIED_AT: new Date().toISOString(),
};
const vecgate = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vecgate'), ...args], { env, encoding: 'utf8', cwd: root });

describe('the vecgate command', () => {
  test('config check accepts the demo configuration', () => {
    const r = vecgate('config', 'check', '-c', 'config/demo.yaml');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('config/demo.yaml is valid: 1 connection(s), 6 rule(s).\n');
    expect(r.status).toBe(0);
  });

  test('an invalid configuration stops with every problem, its key and the fix, and exit code 2', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vecgate-cli-')), 'bad.yaml');
    writeFileSync(file, 'identity: { issuer: "not a url", audience: v }\nconnections: []\npolicy: { rules: [] }\naudit: { mongodbUri: "mongodb://x" }\n');
    const r = vecgate('config', 'check', '-c', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('identity.issuer: must be an http(s) URL');
    expect(r.stderr).toContain('connections: declare at least one connection');
  });

  test('policy explain tells the outcome, the rule and why', () => {
    const r = vecgate('policy', 'explain', '-c', 'config/demo.yaml', '--subject', 'alice', '--groups', 'data-scientists', '--connection', 'demo', '--operation', 'export', '--collection', 'docs-demo');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('outcome: REVIEW by rule scientists-bulk-needs-approval');
  });

  test('policy explain of a raw request classifies it first', () => {
    const r = vecgate('policy', 'explain', '-c', 'config/demo.yaml', '--subject', 'bob', '--groups', 'analysts', '--connection', 'demo', '--method', 'GET', '--path', '/api/v2/tenants/default_tenant/databases/default_database/collections/docs-demo', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { decision: { effect: string; ruleId: string }; operation: string };
    expect(out).toMatchObject({ operation: 'read', decision: { effect: 'deny', ruleId: 'default-deny' } });
  });
});
