import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import { testStack } from '../support/stack';
import { seedTrail } from '../evidence/support/seed';

/** `vecgate evidence export` and `verify` as compliance and the auditor run them: the built CLI against a real trail. */
const root = join(__dirname, '../..');
const vecgate = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vecgate'), ...args], { encoding: 'utf8', cwd: root });

describe('vecgate evidence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-cli-evidence-'));
  const database = `vecgate_cli_ev_${randomBytes(3).toString('hex')}`;
  const configFile = join(dir, 'vecgate.yaml');
  const noKeyConfig = join(dir, 'no-key.yaml');
  const out = join(dir, 'bundle');
  const start = new Date('2026-11-01T00:00:00Z');
  const from = '2026-11-01T00:00:00Z';
  const to = '2026-11-02T00:00:00Z';

  beforeAll(async () => {
    const checkpoint = generateKeyPairSync('ed25519').privateKey;
    writeFileSync(join(dir, 'checkpoint.pem'), checkpoint.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(dir, 'evidence.pem'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const base = {
      identity: { issuer: 'http://idp.example', audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
      policy: { rules: [] },
      audit: { mongodbUri: testStack().mongoUri, database, checkpoints: { keyFile: join(dir, 'checkpoint.pem'), keyName: 'cli/audit' } },
    };
    writeFileSync(configFile, stringify({ ...base, evidence: { keyFile: join(dir, 'evidence.pem') } }));
    writeFileSync(noKeyConfig, stringify(base));
    const mongo = await MongoClient.connect(testStack().mongoUri);
    await seedTrail(mongo.db(database), { instanceId: 'gw-cli', events: 40, start, signer: { name: 'cli/audit', privateKey: checkpoint }, checkpointsAt: [40] });
    await mongo.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('export writes the bundle and its zip, prints the key fingerprint and the command that checks it', () => {
    const r = vecgate('evidence', 'export', '-c', configFile, '--from', from, '--to', to, '--out', out, '--zip');
    expect(r.stderr).not.toMatch(/vecgate: /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/40 audit events \(40 requests\) from 1 instance/);
    expect(r.stdout).toContain('trail verdict: ok');
    expect(r.stdout).toMatch(/check it with: vecgate evidence verify .+ --key [0-9a-f]{64}/);
    expect(existsSync(`${out}.zip`)).toBe(true);
  });

  test('verify exits 0 on the untouched bundle, in text and JSON', () => {
    const fp = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { signature: { fingerprint: string } }).signature.fingerprint;
    const r = vecgate('evidence', 'verify', out, '--key', fp);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('verdict: the bundle is intact');
    const json = JSON.parse(vecgate('evidence', 'verify', out, '--json').stdout) as { ok: boolean; trailVerdict: string };
    expect(json).toMatchObject({ ok: true, trailVerdict: 'ok' });
  });

  test('verify exits 1 and names the changed file and event', () => {
    const path = join(out, 'trail/events.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"status":200', '"status":201'));
    const r = vecgate('evidence', 'verify', out);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL trail\/events\.jsonl: changed/m);
    expect(r.stdout).toMatch(/^FAIL trail\/events\.jsonl \[instance gw-cli seq 1\]: instance gw-cli seq 1: the event was changed/m);
    expect(r.stdout).toContain('verdict: THE BUNDLE WAS CHANGED OR IS INCOMPLETE');
  });

  test.each([
    ['a date that is not ISO', ['-c', configFile, '--from', 'yesterday', '--to', to, '--out', join(dir, 'x1')], /--from yesterday is not a date: use ISO 8601/],
    ['--to before --from', ['-c', configFile, '--from', to, '--to', from, '--out', join(dir, 'x2')], /--to .* is not after --from/],
    ['an output directory that is not empty', ['-c', configFile, '--from', from, '--to', to, '--out', out], /is not empty: export into a new directory/],
    ['no evidence key in the configuration', ['-c', noKeyConfig, '--from', from, '--to', to, '--out', join(dir, 'x3')], /set evidence.keyFile/],
  ])('export refuses %s and says how to fix it', (_what, args, message) => {
    const r = vecgate('evidence', 'export', ...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
