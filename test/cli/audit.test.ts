import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { stringify } from 'yaml';
import { trailSettingsFrom } from '../../src/audit/settings';
import { openAuditTrail } from '../../src/audit/trail';
import { systemClock } from '../../src/clock';
import { parseConfig } from '../../src/config/load';
import { checkpointKeyFile } from '../integration/support/gateway';
import { testStack } from '../support/stack';
import { sampleRecord } from '../audit/support/records';

/** `vecgate audit verify` and `prove` as an auditor runs them: the built CLI against a real trail. */
const root = join(__dirname, '../..');
const vecgate = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vecgate'), ...args], { encoding: 'utf8', cwd: root });

describe('vecgate audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-cli-audit-'));
  const database = `vecgate_cli_${randomBytes(3).toString('hex')}`;
  const configFile = join(dir, 'vecgate.yaml');
  let mongo: MongoClient;

  beforeAll(async () => {
    writeFileSync(
      configFile,
      stringify({
        identity: { issuer: 'http://idp.example', audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
        policy: { rules: [] },
        audit: { mongodbUri: testStack().mongoUri, database, spool: { dir: join(dir, 'spool') }, checkpoints: { keyFile: checkpointKeyFile(), dir: join(dir, 'checkpoints') } },
      }),
    );
    const { config } = parseConfig(readFileSync(configFile, 'utf8'), configFile, {});
    mongo = await MongoClient.connect(testStack().mongoUri);
    const trail = await openAuditTrail(mongo.db(database), trailSettingsFrom(config.audit), { instanceId: 'gw-cli', holderName: 'test', clock: systemClock, logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 25; i++) {
      await trail.commit(sampleRecord({ requestId: `cli-${i}`, request: { method: 'GET', path: '/api/v2/heartbeat', endpoint: 'chroma.heartbeat' }, operation: 'meta', collections: [] }));
    }
    await trail.close();
  });
  afterAll(() => mongo.close());

  test('verify exits 0 on an untouched trail and says so', () => {
    const r = vecgate('audit', 'verify', '-c', configFile);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^OK +instance gw-cli: 25 events \(last seq 25\)/);
    expect(r.stdout).toContain('verdict: every chain verifies against its signed checkpoints');
  });

  test('prove prints a verified inclusion proof of one request', () => {
    const r = vecgate('audit', 'prove', '-c', configFile, '--request-id', 'cli-7', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ instanceId: 'gw-cli', seq: 8, verified: true, checkpoint: { size: 25 } });
  });

  test('verify exits 1 and names the edited and the deleted event', async () => {
    const events = mongo.db(database).collection('audit_events');
    await events.updateOne({ instanceId: 'gw-cli', seq: 4 }, { $set: { 'decision.effect': 'deny' } });
    await events.deleteOne({ instanceId: 'gw-cli', seq: 19 });
    const r = vecgate('audit', 'verify', '-c', configFile);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('edited: seq 4: instance gw-cli: event 4 was changed after it was sealed');
    expect(r.stdout).toContain('deleted: seq 19: instance gw-cli: event 19 is missing');
    expect(r.stdout).toContain('verdict: TAMPERING OR LOSS FOUND');
    const json = JSON.parse(vecgate('audit', 'verify', '-c', configFile, '--json').stdout) as { ok: boolean };
    expect(json.ok).toBe(false);
  });
});
