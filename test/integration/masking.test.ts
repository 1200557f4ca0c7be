import { randomBytes } from 'node:crypto';
import { ChromaClient } from 'chromadb';
import { startTestGateway, type TestGateway } from './support/gateway';
import { rawRequest, statusOf } from './support/raw-http';
import { startTap, type Tap } from './support/tap';
import { testChromas, tokenFor } from '../support/stack';

const NO_EMBEDDING = null as unknown as undefined;
const TOKEN_KEY = 'k'.repeat(48);

const RECORDS: { ids: string[]; embeddings: number[][]; documents: string[]; metadatas: Array<Record<string, string>> } = {
  ids: ['p1', 'p2', 'p3'],
  embeddings: [[0.11, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.91]],
  documents: ['Call jane at +44 20 7946 0958 or jane.doe@example.com', 'card 4111 1111 1111 1111 on file', 'nothing personal here'],
  metadatas: [{ email: 'jane.doe@example.com', team: 'support' }, { email: 'max@example.org', iban: 'DE89 3704 0044 0532 0130 00' }, { team: 'ml', note: 'ssn 123-45-6789' }],
};

describe.each(testChromas())('masking personal data in responses (THREATS 17, 18), in front of $label', (chroma) => {
  let tap: Tap;
  let gw: TestGateway;
  let alice: string;
  let carol: string;
  let collectionId: string;
  const name = `docs-pii-${randomBytes(3).toString('hex')}`;
  const client = (token: string) => new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    tap = await startTap(chroma.url);
    gw = await startTestGateway({
      upstream: tap.url,
      env: { IT_MASK_KEY: TOKEN_KEY },
      masking: {
        settings: { tokenKeyEnv: 'IT_MASK_KEY', maxBodyBytes: 256 * 1024 },
        rules: [
          { id: 'pii', collections: ['docs-*'], fields: ['metadata.email'], detectors: ['email', 'phone', 'payment_card', 'iban', 'us_ssn'], style: 'placeholder', exemptGroups: ['pii-readers'] },
          { id: 'joinable-team', collections: ['docs-*'], fields: [{ path: 'metadata.team', style: 'token' }], exemptGroups: ['pii-readers'] },
        ],
      },
    });
    [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
    const created = await client(carol).createCollection({ name, embeddingFunction: NO_EMBEDDING });
    collectionId = created.id;
    await created.add(RECORDS);
  });
  afterAll(async () => {
    await gw.close();
    await tap.close();
  });

  test('documents and metadata are masked for a scientist; embeddings, ids and distances are exact', async () => {
    const docs = await client(alice).getCollection({ name, embeddingFunction: NO_EMBEDDING });
    const got = await docs.get({ ids: RECORDS.ids, include: ['documents', 'metadatas', 'embeddings'] as never });
    expect(got.ids).toEqual(RECORDS.ids);
    const plain = await new ChromaClient({ host: new URL(chroma.url).hostname, port: Number(new URL(chroma.url).port) })
      .getCollection({ name, embeddingFunction: NO_EMBEDDING })
      .then((c) => c.get({ ids: RECORDS.ids, include: ['embeddings'] as never }));
    expect(got.embeddings).toEqual(plain.embeddings);
    expect(got.embeddings?.[0]?.[0]).toBeCloseTo(0.11, 6);
    expect(got.documents).toEqual(['Call jane at [PHONE] or [EMAIL]', 'card [PAYMENT_CARD] on file', 'nothing personal here']);
    const metas = got.metadatas as Array<Record<string, unknown>>;
    expect(metas[0]?.email).toBe('[REDACTED]');
    expect(metas[1]).toMatchObject({ email: '[REDACTED]', iban: '[IBAN]' });
    expect(metas[2]?.note).toBe('ssn [US_SSN]');
    // the token style keeps equal values equal without showing them
    expect(metas[0]?.team).toMatch(/^tok_field_[0-9a-f]+$/);
    expect(metas[0]?.team).not.toBe(metas[2]?.team);

    const direct = await new ChromaClient({ host: new URL(chroma.url).hostname, port: Number(new URL(chroma.url).port) })
      .getCollection({ name, embeddingFunction: NO_EMBEDDING })
      .then((c) => c.query({ queryEmbeddings: [[0.1, 0.2, 0.3], [0.7, 0.8, 0.9]], nResults: 2, include: ['documents', 'distances', 'embeddings'] as never }));
    const found = await docs.query({ queryEmbeddings: [[0.1, 0.2, 0.3], [0.7, 0.8, 0.9]], nResults: 2, include: ['documents', 'distances', 'embeddings'] as never });
    expect(found.ids).toEqual(direct.ids);
    expect(found.distances).toEqual(direct.distances);
    expect(found.embeddings).toEqual(direct.embeddings);
    expect(found.documents[0]).toContain('Call jane at [PHONE] or [EMAIL]');
    expect(JSON.stringify(found.documents)).not.toContain('jane.doe@example.com');
  });

  test('the audit event says which rules and detectors fired and how many values, never the values', async () => {
    const events = await gw.events({ 'principal.subject': 'u-1001-alice', 'request.endpoint': 'chroma.collection_get' });
    const m = events.at(-1)?.masking;
    expect(m?.rulesApplied).toEqual(['pii', 'joinable-team']);
    expect(m?.detectorsFired).toEqual(expect.arrayContaining(['email', 'phone', 'payment_card', 'iban', 'us_ssn'].map((detector) => ({ detector, count: 1 }))));
    expect(m?.fieldsMasked).toEqual(expect.arrayContaining([{ field: 'metadata.email', count: 2 }, { field: 'metadata.team', count: 2 }]));
    // leaf values changed: 2 documents, 2 e-mail fields, 2 team fields, an IBAN and a note
    expect(m?.valuesMasked).toBe(8);
    expect(JSON.stringify(events)).not.toMatch(/jane|4111|6789|DE89/);
  });

  test('an exempt group reads clear text, audited as exempt', async () => {
    const docs = await client(carol).getCollection({ name, embeddingFunction: NO_EMBEDDING });
    const got = await docs.get({ ids: ['p1'], include: ['documents', 'metadatas'] as never });
    expect(got.documents).toEqual([RECORDS.documents[0]]);
    expect(got.metadatas).toEqual([RECORDS.metadatas[0]]);
    const [e] = await gw.events({ 'principal.subject': 'u-1003-carol', 'request.endpoint': 'chroma.collection_get' });
    expect(e?.masking).toMatchObject({ rulesApplied: [], rulesExempted: ['pii', 'joinable-team'], valuesMasked: 0 });
  });

  test.each(['gzip', 'deflate', 'br'] as const)('a %s-compressed, chunked response is decoded, masked and sent plain', async (encoding) => {
    tap.compress = encoding;
    try {
      const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'accept-encoding': 'gzip, deflate, br' },
        body: JSON.stringify({ ids: ['p1'], include: ['documents', 'metadatas'] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      const body = (await res.json()) as { documents: string[] };
      expect(body.documents).toEqual(['Call jane at [PHONE] or [EMAIL]']);
    } finally {
      tap.compress = undefined;
    }
  });

  test('error bodies are masked too', async () => {
    tap.answer = { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'InvalidArgumentError', message: 'record p9 of jane.doe@example.com is malformed' }) };
    try {
      const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['p9'] }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'InvalidArgumentError', message: 'record p9 of [EMAIL] is malformed' });
    } finally {
      tap.answer = undefined;
    }
  });

  test('a heartbeat through a masked connection answers 200 with the exact integer (THREATS 37)', async () => {
    const raw = await rawRequest(gw.port, `GET /api/v2/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${alice}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(raw)).toBe(200);
    const digits = /"nanosecond heartbeat"\s*:\s*(\d+)/.exec(raw)?.[1];
    expect(digits).toBeDefined();
    const nanos = BigInt(digits as string);
    // beyond 2^53 and within a minute of now: the digits are Chroma's, not a rounded double
    expect(nanos > 2n ** 53n).toBe(true);
    const now = BigInt(Date.now()) * 1_000_000n;
    expect(nanos > now - 60_000_000_000n && nanos < now + 60_000_000_000n).toBe(true);
  });

  test('records holding integers beyond 2^53 are read back with their exact digits, personal data still masked (THREATS 37)', async () => {
    const base = `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}`;
    // JavaScript numbers cannot hold these: the body is written as text, straight to Chroma
    const add = await fetch(`${chroma.url}${base}/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ids":["big1"],"embeddings":[[0.5,0.5,0.5]],"documents":["write to jane.doe@example.com"],"metadatas":[{"big":9007199254740993,"low":-9223372036854775807,"email":"jane.doe@example.com"}]}',
    });
    expect(add.status).toBeLessThan(300);
    const res = await fetch(`${gw.url}${base}/get`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['big1'], include: ['documents', 'metadatas'] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/"big"\s*:\s*9007199254740993\b/);
    expect(text).toMatch(/"low"\s*:\s*-9223372036854775807\b/);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).toContain('write to [EMAIL]');
    expect(text).toMatch(/"email"\s*:\s*"\[REDACTED\]"/);
  });

  test('an e-mail address used as a metadata key or as a record id is masked', async () => {
    const base = `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}`;
    const add = await fetch(`${chroma.url}${base}/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['max.roe@example.com'], embeddings: [[0.3, 0.3, 0.3]], documents: ['keyed'], metadatas: [{ 'jane.doe@example.com': 'owner', team: 'ml' }] }),
    });
    expect(add.status).toBeLessThan(300);
    const res = await fetch(`${gw.url}${base}/get`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['max.roe@example.com'], include: ['documents', 'metadatas'] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/max\.roe|jane\.doe/);
    const body = JSON.parse(text) as { ids: string[]; metadatas: Record<string, unknown>[] };
    expect(body.ids).toEqual(['[EMAIL]']);
    expect(body.metadatas[0]).toMatchObject({ '[EMAIL]': 'owner' });
  });

  test('an error body echoing a designated field is masked, though no detector finds its value', async () => {
    tap.answer = {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'InvalidArgumentError', message: 'metadata rejected', metadatas: [{ email: 'Jane Roe', note: 'x' }], metadata: { email: 'Max Roe' } }),
    };
    try {
      const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['p1'] }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'InvalidArgumentError', message: 'metadata rejected', metadatas: [{ email: '[REDACTED]', note: 'x' }], metadata: { email: '[REDACTED]' } });
    } finally {
      tap.answer = undefined;
    }
  });

  test('an answer that cannot hold personal data is passed as it came, even an error page a masked caller could not otherwise get (THREATS 37)', async () => {
    tap.answer = { status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>warming up</h1>' };
    try {
      const res = await fetch(`${gw.url}/api/v2/version`, { headers: { authorization: `Bearer ${alice}` } });
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('<h1>warming up</h1>');
    } finally {
      tap.answer = undefined;
    }
  });

  test.each<[string, { status: number; headers: Record<string, string>; body: string }]>([
    ['malformed JSON', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ids": ["p1"], "documents": ["jane.doe@example.com"' }],
    ['an unknown content type', { status: 200, headers: { 'content-type': 'text/csv' }, body: 'id,document\np1,jane.doe@example.com' }],
    ['an unknown encoding', { status: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' }, body: 'xxxx' }],
    ['a body over the masking limit', { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['p1'], documents: ['jane.doe@example.com '.repeat(20000)] }) }],
  ])('%s is withheld, never passed through unmasked, and audited', async (_name, answer) => {
    tap.answer = answer;
    try {
      const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['p1'] }),
      });
      expect(res.status).toBe(502);
      expect(res.headers.get('x-vecgate-error')).toBe('MASKING_FAILED');
      expect(await res.text()).not.toContain('jane.doe');
    } finally {
      tap.answer = undefined;
    }
    const failed = await gw.events({ 'error.code': 'MASKING_FAILED' });
    expect(failed.length).toBeGreaterThan(0);
  });
});
