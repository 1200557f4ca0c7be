import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChromaClient } from 'chromadb';
import { dialectFor } from '../../src/dialect';

/**
 * What a user of the official chromadb JS client (3.0.x) sees when vecgate answers with an error
 * in Chroma's shape. The client decides by status alone: only 400 shows the body's message, every
 * other status becomes a fixed text. If a client upgrade starts showing messages, this fails and
 * the table (and the operators' guide) should be updated.
 */

const MESSAGE = 'No rule grants alice read on collection "hr"; ask #sec-access for a grant.';
const chroma = dialectFor('chroma');

let server: Server;
let status = 500;
let port = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    const { contentType, body } = chroma.errorBody({ status, code: 'POLICY_DENIED', message: MESSAGE });
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

async function errorSeenFor(answer: number): Promise<{ name: string; message: string }> {
  status = answer;
  const client = new ChromaClient({ host: '127.0.0.1', port, ssl: false, tenant: 'acme', database: 'prod' });
  try {
    await client.getCollection({ name: 'support-tickets' });
  } catch (err) {
    const { name, message } = err as Error;
    return { name, message };
  }
  throw new Error(`status ${answer} did not raise`);
}

describe('chromadb JS client facing a vecgate error', () => {
  it('shows our message for 400', async () => {
    const seen = await errorSeenFor(400);
    expect(seen.name).toBe('ChromaClientError');
    expect(seen.message).toContain(MESSAGE);
  });

  it.each<[number, string, string]>([
    [401, 'ChromaAuthError', 'Unauthorized'],
    [403, 'ChromaForbiddenError', 'You do not have permission to access the requested resource.'],
    [404, 'ChromaNotFoundError', 'The requested resource could not be found'],
    [408, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 408). Please try again later.'],
    [413, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 413). Please try again later.'],
    [500, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 500). Please try again later.'],
    [502, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 502). Please try again later.'],
    [503, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 503). Please try again later.'],
    [504, 'ChromaConnectionError', 'Unable to connect to the chromadb server (status: 504). Please try again later.'],
  ])('replaces our message for %i with %s: "%s"', async (answer, name, message) => {
    await expect(errorSeenFor(answer)).resolves.toEqual({ name, message });
  });
});
