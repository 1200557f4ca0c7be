import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalConnectionOptions } from '../../src/approval/temporal-connection';
import { ConfigError } from '../../src/config/load';
import type { TemporalConfig } from '../../src/config/schema';
import { testStack } from '../support/stack';

/**
 * THREATS 35: vecgate's Temporal connections use TLS where configured. The dev server cannot serve
 * TLS itself (`temporal server start-dev` has no TLS flags), so the real dev server is put behind a
 * TLS terminator that, like a TLS-enabled frontend, presents a certificate from a private CA and
 * demands a client certificate (mTLS); bytes then pass to the dev server unchanged.
 */
describe('Temporal connections with TLS and mTLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-temporal-tls-'));
  const file = (name: string) => join(dir, name);
  let terminator: TlsServer;
  let address: string;

  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
  };

  beforeAll(async () => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=vecgate test CA', '-days', '1', '-out', 'ca.crt');
    issue('server', '/CN=temporal.internal', 'subjectAltName=DNS:temporal.internal\nextendedKeyUsage=serverAuth\n');
    issue('client', '/CN=vecgate-worker', 'extendedKeyUsage=clientAuth\n');

    const [host, port] = testStack().temporalAddress.split(':') as [string, string];
    terminator = createTlsServer(
      { key: readFileSync(file('server.key')), cert: readFileSync(file('server.crt')), ca: readFileSync(file('ca.crt')), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
      (socket) => {
        const upstream = tcpConnect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(terminator.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => terminator?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (tls: TemporalConfig['tls']): TemporalConfig => ({ address, namespace: 'default', taskQueue: 'q', ...(tls ? { tls } : {}) });
  const mtls = () => config({ serverCaFile: file('ca.crt'), serverName: 'temporal.internal', clientCertFile: file('client.crt'), clientKeyFile: file('client.key') });

  test('the gateway\'s and the CLI\'s client connection reaches Temporal over mTLS with the private CA and server name', async () => {
    const connection = await Connection.connect({ ...temporalConnectionOptions(mtls(), undefined), connectTimeout: 5000 });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
  });

  test('the worker\'s native connection reaches Temporal over mTLS', async () => {
    const connection = await NativeConnection.connect(temporalConnectionOptions(mtls(), undefined));
    try {
      expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
  });

  test('without the client certificate, without the private CA, or with the wrong server name, no connection is made', async () => {
    const attempts = [
      config({ serverCaFile: file('ca.crt'), serverName: 'temporal.internal' }),
      config({ serverName: 'temporal.internal', clientCertFile: file('client.crt'), clientKeyFile: file('client.key') }),
      config({ serverCaFile: file('ca.crt'), serverName: 'other.internal', clientCertFile: file('client.crt'), clientKeyFile: file('client.key') }),
      config(undefined),
    ];
    for (const attempt of attempts) {
      await expect(Connection.connect({ ...temporalConnectionOptions(attempt, undefined), connectTimeout: 1500 }).then((c) => c.workflowService.getSystemInfo({}).finally(() => c.close()))).rejects.toThrow();
    }
  });
});

describe('temporalConnectionOptions', () => {
  const base: TemporalConfig = { address: 'temporal.example:7233', namespace: 'default', taskQueue: 'q' };
  const files: Record<string, string> = { '/ca.pem': 'CA', '/c.pem': 'CRT', '/k.pem': 'KEY' };
  const read = (path: string) => {
    if (!(path in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return Buffer.from(files[path] as string);
  };

  test.each<[string, TemporalConfig, string | undefined, object]>([
    ['plain (no tls, no key): no TLS', base, undefined, { address: base.address }],
    ['tls {}: TLS with the system CAs', { ...base, tls: {} }, undefined, { address: base.address, tls: {} }],
    ['a private CA and server name', { ...base, tls: { serverCaFile: '/ca.pem', serverName: 'temporal.internal' } }, undefined, { address: base.address, tls: { serverRootCACertificate: Buffer.from('CA'), serverNameOverride: 'temporal.internal' } }],
    ['mTLS', { ...base, tls: { clientCertFile: '/c.pem', clientKeyFile: '/k.pem' } }, undefined, { address: base.address, tls: { clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') } } }],
    ['an API key turns TLS on', { ...base, apiKeyEnv: 'TEMPORAL_API_KEY' }, 'k-1', { address: base.address, tls: {}, apiKey: 'k-1' }],
  ])('%s', (_name, temporal, apiKey, expected) => {
    expect(temporalConnectionOptions(temporal, apiKey, read)).toEqual(expected);
  });

  test('an unreadable file or a missing API key names the key', () => {
    try {
      temporalConnectionOptions({ ...base, tls: { serverCaFile: '/nope.pem' }, apiKeyEnv: 'TEMPORAL_API_KEY' }, undefined, read);
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.key)).toEqual(['approvals.temporal.apiKeyEnv', 'approvals.temporal.tls.serverCaFile']);
    }
  });
});
