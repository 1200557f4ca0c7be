import { randomBytes } from 'node:crypto';
import { startTestGateway, type TestGateway } from './support/gateway';
import { runPythonClient } from './support/python-client';
import { testChromas, tokenFor } from '../support/stack';

/** 2**53 + 1: the first integer a JavaScript number cannot hold, so a JSON round trip in JS would change it. */
const BIG = '9007199254740993';

describe.each(testChromas())('the official Python client (PyPI chromadb 1.5) through the gateway, in front of $label', (chroma) => {
  let gw: TestGateway;
  let tokens: Record<'alice' | 'bob' | 'carol', string>;
  const docs = `docs-py-${randomBytes(3).toString('hex')}`;
  const as = (token: string) => ({ host: gw.host, port: gw.port, token });

  beforeAll(async () => {
    gw = await startTestGateway({ upstream: chroma.url });
    tokens = { alice: await tokenFor('alice'), bob: await tokenFor('bob'), carol: await tokenFor('carol') };
  });
  afterAll(async () => {
    await gw.close();
  });

  test('connects and sends a heartbeat with a bearer token, audited as meta', async () => {
    const run = await runPythonClient(as(tokens.bob), [{ op: 'heartbeat' }]);
    expect(run.error).toBeUndefined();
    // nanoseconds since the epoch, beyond 2**53: the script hands it over as digits
    expect(run.results[0]).toEqual({ int: expect.stringMatching(/^\d{19}$/) });
    const events = await gw.events({ 'principal.subject': 'u-1002-bob' });
    expect(events.map((e) => e.request.endpoint)).toContain('chroma.heartbeat');
    expect(events.every((e) => e.operation === 'meta' && e.decision.effect === 'allow')).toBe(true);
  });

  test('a steward creates a collection; a scientist adds with explicit embeddings, queries, gets by id and counts', async () => {
    const carol = await runPythonClient(as(tokens.carol), [{ op: 'create_collection', name: docs }]);
    expect(carol.error).toBeUndefined();
    expect(carol.results[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: docs });

    const alice = await runPythonClient(as(tokens.alice), [
      { op: 'add', name: docs, ids: ['a', 'b', 'c'], embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], documents: ['alpha', 'beta', 'gamma'], metadatas: [{ n: 1 }, { n: 2 }, { n: 3 }] },
      { op: 'query', name: docs, query_embeddings: [[0.9, 0.1, 0]], n_results: 2 },
      { op: 'get', name: docs, ids: ['c'], include: ['documents', 'metadatas', 'embeddings'] },
      { op: 'count', name: docs },
    ]);
    expect(alice.error).toBeUndefined();
    expect(alice.results).toEqual([null, { ids: [['a', 'b']] }, { ids: ['c'], documents: ['gamma'], metadatas: [{ n: 3 }], embeddings: [[0, 0, 1]] }, 3]);

    const ops = (await gw.events({ 'principal.subject': 'u-1001-alice' })).map((e) => `${e.request.endpoint}:${e.decision.effect}:${e.status}`);
    expect(ops).toEqual(expect.arrayContaining(['chroma.collection_add:allow:201', 'chroma.collection_query:allow:200', 'chroma.collection_get:allow:200', 'chroma.collection_count:allow:200']));
  });

  test("a denied operation raises the client's ChromaError carrying the gateway's explanation", async () => {
    const bob = await runPythonClient(as(tokens.bob), [{ op: 'get_collection', name: docs }]);
    expect(bob.results).toEqual([]);
    expect(bob.error).toEqual({ step: 'get_collection', type: 'ChromaError', message: expect.stringContaining('No rule grants u-1002-bob (groups: analysts) read') });

    // a bulk export by a scientist is held for review: the client sees why
    const alice = await runPythonClient(as(tokens.alice), [{ op: 'peek', name: docs }]);
    expect(alice.error).toMatchObject({ step: 'peek', type: 'ChromaError' });
    expect(alice.error?.message).toMatch(/approv/i);
  });

  test('an integer metadata value beyond 2**53 is read back exactly through a connection without masking', async () => {
    const run = await runPythonClient(as(tokens.alice), [
      { op: 'add', name: docs, ids: ['big'], embeddings: [[0.5, 0.5, 0]], metadatas: [{ big: { int: BIG }, small: 7 }] },
      { op: 'get', name: docs, ids: ['big'], include: ['metadatas'] },
    ]);
    expect(run.error).toBeUndefined();
    expect(run.results[1]).toEqual({ ids: ['big'], metadatas: [{ big: { int: BIG }, small: 7 }] });
  });
});
