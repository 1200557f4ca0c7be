import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient } from 'chromadb';
import { stringify } from 'yaml';
import { systemClock } from '../../src/clock';
import { parseConfig } from '../../src/config/load';
import { canonicalBytes } from '../../src/audit/sequencer';
import { exportEvidence, type ExportResult } from '../../src/evidence/export';
import { fingerprint, signatureBlock, type Manifest } from '../../src/evidence/manifest';
import type { EvidenceSummary } from '../../src/evidence/summary';
import type { Verification } from '../../src/evidence/trail-section';
import { verifyBundle, type BundleVerdict } from '../../src/evidence/verify-bundle';
import { checkpointKeyFile, startTestGateway, type TestGateway } from '../integration/support/gateway';
import { testStack, tokenFor } from '../support/stack';
import { createPublicKey, createPrivateKey } from 'node:crypto';

/**
 * The evidence bundle of a real run: a gateway in front of Chroma serves allowed, denied and masked
 * requests; the export then reads only MongoDB (the gateway is stopped) and the bundle verifies
 * offline. Every change to the bundle afterwards is found and named.
 */

const NO_EMBEDDING = null as unknown as undefined;
const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-'));
const evidenceKey = join(scratch, 'evidence.pem');
writeFileSync(evidenceKey, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));

function exportConfig(database: string, checkpointDir: string, extra: Record<string, unknown> = {}) {
  const yaml = stringify({
    identity: { issuer: 'http://idp.example', audience: 'vecgate' },
    connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
    policy: { rules: [] },
    audit: { mongodbUri: testStack().mongoUri, database, checkpoints: { keyFile: checkpointKeyFile(), dir: checkpointDir } },
    evidence: { keyFile: evidenceKey, keyName: 'test/evidence' },
    ...extra,
  });
  return parseConfig(yaml, 'export config', {}).config;
}

describe('vecgate evidence export of a real run, and its offline verification', () => {
  const database = `vecgate_ev_${randomBytes(3).toString('hex')}`;
  const checkpointDir = join(scratch, 'checkpoints');
  const out = join(scratch, 'bundle');
  let gw: TestGateway;
  let started: Date;
  let result: ExportResult;

  beforeAll(async () => {
    started = new Date(Date.now() - 1000);
    gw = await startTestGateway({
      database,
      audit: { checkpoints: { keyFile: checkpointKeyFile(), dir: checkpointDir, everySeconds: 1 } },
      masking: { rules: [{ id: 'pii', collections: ['docs-*'], fields: [], detectors: ['email'], style: 'placeholder', exemptGroups: ['pii-readers'] }] },
    });
    const [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
    const client = (token: string) => new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${token}` } });
    const name = `docs-ev-${randomBytes(3).toString('hex')}`;
    const created = await client(carol).createCollection({ name, embeddingFunction: NO_EMBEDDING });
    await created.add({ ids: ['a', 'b'], embeddings: [[1, 2, 3], [4, 5, 6]], documents: ['mail jane.doe@example.com', 'nothing here'] });
    const docs = await client(alice).getCollection({ name, embeddingFunction: NO_EMBEDDING });
    const got = await docs.get({ ids: ['a', 'b'], include: ['documents'] as never });
    expect(got.documents[0]).toBe('mail [EMAIL]');
    await expect(client(alice).createCollection({ name: `secret-${randomBytes(3).toString('hex')}`, embeddingFunction: NO_EMBEDDING })).rejects.toThrow();
    await fetch(`${gw.url}/api/v2/heartbeat`, { headers: { authorization: 'Bearer not-a-token' } });
    await gw.close();

    result = await exportEvidence({ config: exportConfig(database, checkpointDir), from: started, to: new Date(Date.now() + 1000), out, zip: true, clock: systemClock });
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('the bundle holds the trail, its proofs, the configuration, the access review, the control map, the report and the signed manifest', () => {
    const paths = result.manifest.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['trail/events.jsonl', 'trail/events.csv', 'trail/verification.json', 'access-review.json', 'access-review.csv', 'summary.json', 'control-map.json', 'control-map.csv', 'report.html']));
    expect(paths.filter((p) => p.startsWith('trail/checkpoints/'))).toHaveLength(1);
    expect(paths.filter((p) => p.startsWith('configurations/'))).toHaveLength(1);
    expect(existsSync(join(out, 'manifest.json')) && existsSync(join(out, 'manifest.sig'))).toBe(true);
    expect(existsSync(`${out}.zip`)).toBe(true);
  });

  test('the zip holds every file of the bundle under its directory name, in path order', () => {
    const zip = readFileSync(`${out}.zip`);
    const names: string[] = [];
    // the central directory: one 0x02014b50 record per file, its name at offset 46
    for (let i = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i >= 0; i = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 46)) {
      names.push(zip.subarray(i + 46, i + 46 + zip.readUInt16LE(i + 28)).toString('utf8'));
    }
    const expected = [...result.manifest.files.map((f) => f.path), 'manifest.json', 'manifest.sig'].sort().map((p) => `bundle/${p}`);
    expect(names).toEqual(expected);
  });

  test('the summary counts allowed, denied and masked requests, and the trail verdict is ok', () => {
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as EvidenceSummary;
    expect(s.trail.verdict).toBe('ok');
    expect(s.trail.instances).toEqual([gw.gateway.instanceId]);
    expect(s.trail.byDecision.find((c) => c.key === 'allow')?.count).toBeGreaterThanOrEqual(3);
    expect(s.trail.byDecision.find((c) => c.key === 'deny')?.count).toBe(1);
    expect(s.trail.byDecision.find((c) => c.key === 'none')?.count).toBe(1);
    expect(s.trail.denials).toEqual([expect.objectContaining({ principal: 'u-1001-alice', operation: 'schema', ruleId: 'no-secrets-for-scientists' })]);
    expect(s.trail.masking).toMatchObject({ eventsWithMasking: 1, valuesMasked: 1, byDetector: [{ key: 'email', count: 1 }] });
    expect(s.approvals.temporalReached).toBe(false);
    expect(s.trail.configurations).toHaveLength(1);
  });

  test('each exported event is in the CSV, and the first and last are proven in the signed checkpoint', () => {
    const lines = readFileSync(join(out, 'trail/events.jsonl'), 'utf8').trim().split('\n');
    const csv = readFileSync(join(out, 'trail/events.csv'), 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(lines.length + 1);
    expect(csv[0]).toMatch(/^time,instance,seq,requestId,principal/);
    const v = JSON.parse(readFileSync(join(out, 'trail/verification.json'), 'utf8')) as Verification;
    const inst = v.instances[0];
    expect(inst).toMatchObject({ firstSeq: 1, lastSeq: lines.length, events: lines.length });
    expect(inst?.inclusion.map((p) => [p.seq, p.verified])).toEqual([[1, true], [lines.length, true]]);
    expect(v.store?.ok).toBe(true);
  });

  test('the configuration in force is kept under its sha256, which its file hashes to', () => {
    const file = result.manifest.files.find((f) => f.path.startsWith('configurations/'));
    expect(file?.path).toBe(`configurations/${file?.sha256}.json`);
  });

  test('the access review compares the policy with what alice and carol used', () => {
    const review = JSON.parse(readFileSync(join(out, 'access-review.json'), 'utf8')) as EvidenceSummary['accessReview'];
    const alice = review.principals.find((p) => p.principal === 'u-1001-alice');
    expect(alice).toMatchObject({ email: 'alice@example.test', denied: 1, masked: 1 });
    expect(alice?.allowed).toContainEqual({ key: 'scientists-use-docs: allow search, read, write on docs-*', count: expect.any(Number) });
    expect(review.groups.map((g) => g.group)).toEqual(expect.arrayContaining(['data-scientists', 'data-stewards']));
  });

  test('the untouched bundle verifies, against its expected key too', async () => {
    const v = await verifyBundle(out, { key: result.manifest.signature.fingerprint });
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, keyChecked: true, trailVerdict: 'ok' });
    expect(v.lines.join('\n')).toMatch(/events 1-\d+ \(\d+\) hash and link; seq 1, \d+ proven in checkpoint/);
  });

  const otherKey = generateKeyPairSync('ed25519').privateKey;
  const resign = (dir: string, edit: (m: Manifest) => void, key = createPrivateKey(readFileSync(evidenceKey))) => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    edit(m);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
    writeFileSync(join(dir, 'manifest.sig'), sign(null, canonicalBytes(m), key).toString('base64'));
  };
  const flipByte = (dir: string, path: string, at = 10) => {
    const buf = readFileSync(join(dir, path));
    buf[at] = (buf[at] as number) ^ 0x01;
    writeFileSync(join(dir, path), buf);
  };

  test.each<[string, (dir: string) => void, RegExp]>([
    ['a byte of the events changed', (d) => flipByte(d, 'trail/events.jsonl', 40), /^trail\/events\.jsonl: changed/],
    ['a byte of the report changed', (d) => flipByte(d, 'report.html'), /^report\.html: changed/],
    ['a byte of the checkpoint note changed', (d) => flipByte(d, (JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as Manifest).checkpoints[0]!.note, 2), /^trail\/checkpoints\/.+\.note: changed/],
    ['the access review removed', (d) => rmSync(join(d, 'access-review.csv')), /^access-review\.csv: missing/],
    ['a file added', (d) => writeFileSync(join(d, 'trail', 'extra.jsonl'), '{}\n'), /^trail\/extra\.jsonl: extra file/],
    ['the manifest edited', (d) => writeFileSync(join(d, 'manifest.json'), readFileSync(join(d, 'manifest.json'), 'utf8').replace('"unmasked": false', '"unmasked": true')), /^manifest\.sig: the signature does not match/],
    ['the signature removed', (d) => rmSync(join(d, 'manifest.sig')), /^manifest\.sig: missing/],
    [
      'the manifest re-signed with another key',
      (d) => resign(d, (m) => (m.signature = signatureBlock(otherKey, 'test/evidence')), otherKey),
      /^manifest\.sig: signed by key [0-9a-f]{64}, not by the expected key/,
    ],
    [
      'an event edited and the manifest re-signed by the key holder',
      (d) => {
        const path = join(d, 'trail/events.jsonl');
        const lines = readFileSync(path, 'utf8').split('\n');
        lines[2] = lines[2]!.replace('"effect":"allow"', '"effect":"deny"');
        writeFileSync(path, lines.join('\n'));
        const body = readFileSync(path);
        resign(d, (m) => {
          const f = m.files.find((x) => x.path === 'trail/events.jsonl')!;
          f.sha256 = createHash('sha256').update(body).digest('hex');
          f.bytes = body.length;
        });
      },
      /^trail\/events\.jsonl \[instance .+ seq 3\]: instance .+ seq 3: the event was changed/,
    ],
  ])('verify fails and names it when %s', async (_what, tamper, named) => {
    const copy = mkdtempSync(join(scratch, 'tampered-'));
    cpSync(out, copy, { recursive: true });
    tamper(copy);
    const v: BundleVerdict = await verifyBundle(copy, { key: result.manifest.signature.fingerprint });
    expect(v.ok).toBe(false);
    const described = v.problems.map((p) => `${p.file}${p.instanceId !== undefined ? ` [instance ${p.instanceId}${p.seq !== undefined ? ` seq ${p.seq}` : ''}]` : ''}: ${p.message}`);
    expect(described).toContainEqual(expect.stringMatching(named));
  });

  test('the published key may be given as a PEM public key', async () => {
    const pem = createPublicKey(createPrivateKey(readFileSync(evidenceKey))).export({ format: 'pem', type: 'spki' }).toString();
    expect(fingerprint(createPublicKey(pem))).toBe(result.manifest.signature.fingerprint);
    const pemFile = join(scratch, 'evidence.pub');
    writeFileSync(pemFile, pem);
    expect((await verifyBundle(out, { key: pemFile })).ok).toBe(true);
  });

  test('with Temporal configured the approvals section is evidenced, and --pdf adds the printed report to the signed files', async () => {
    const decider = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const withTemporal = exportConfig(database, checkpointDir, { approvals: { temporal: { address: testStack().temporalAddress }, deciderPublicKeys: [decider] } });
    const out2 = join(scratch, 'bundle-with-approvals');
    const r = await exportEvidence({ config: withTemporal, from: started, to: new Date(), out: out2, pdf: true, clock: systemClock });
    expect(r.summary.approvals.temporalReached).toBe(true);
    expect(r.manifest.files.map((f) => f.path)).toContain('report.pdf');
    expect(readFileSync(join(out2, 'report.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    const v = await verifyBundle(out2);
    expect(v.problems).toEqual([]);
  });

  test.each<[string, () => Parameters<typeof exportEvidence>[0], RegExp]>([
    ['the output directory is not empty', () => ({ config: exportConfig(database, checkpointDir), from: started, to: new Date(), out, clock: systemClock }), /is not empty: export into a new directory/],
    ['--to is before --from', () => ({ config: exportConfig(database, checkpointDir), from: new Date(), to: started, out: join(scratch, 'never'), clock: systemClock }), /--to .* is not after --from/],
    [
      'the evidence key is not configured',
      () => ({ config: { ...exportConfig(database, checkpointDir), evidence: undefined }, from: started, to: new Date(), out: join(scratch, 'never'), clock: systemClock }),
      /set evidence.keyFile .* openssl genpkey -algorithm ed25519/,
    ],
    [
      'the evidence key file is missing',
      () => ({ config: { ...exportConfig(database, checkpointDir), evidence: { keyFile: join(scratch, 'nope.pem'), keyName: 'x' } }, from: started, to: new Date(), out: join(scratch, 'never'), clock: systemClock }),
      /evidence.keyFile .*nope.pem cannot be read .* openssl genpkey/,
    ],
  ])('the export stops with the fix when %s', async (_what, options, message) => {
    await expect(exportEvidence(options())).rejects.toThrow(message);
    expect(existsSync(join(scratch, 'never'))).toBe(false);
  });
});
