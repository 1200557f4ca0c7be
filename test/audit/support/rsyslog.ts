import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real rsyslogd (Debian's package, installed by scripts/install-servers.sh) receiving on TCP, optionally TLS. */
export interface Rsyslog {
  port: number;
  /** what rsyslog parsed out of each message, one line each: pri|app|procid|msgid|structured-data|msg */
  lines(): string[];
  caFile?: string;
  stop(): Promise<void>;
}

const RSYSLOGD = '/usr/sbin/rsyslogd';

export function rsyslogAvailable(): boolean {
  return existsSync(RSYSLOGD);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRsyslog(options: { tls?: boolean } = {}): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-rsyslog-'));
  const port = await freePort();
  const out = join(dir, 'received.log');
  let tlsGlobal = '';
  let driver = '';
  let caFile: string | undefined;
  if (options.tls) {
    caFile = join(dir, 'ca.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', caFile], { stdio: 'ignore' });
    tlsGlobal = `global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${caFile}" DefaultNetstreamDriverCertFile="${caFile}" DefaultNetstreamDriverKeyFile="${key}")`;
    driver = ' StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"';
  }
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      tlsGlobal,
      `module(load="imtcp"${driver})`,
      `template(name="fields" type="string" string="%pri%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")`,
      `ruleset(name="vecgate") { action(type="omfile" file="${out}" template="fields") }`,
      `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="vecgate")`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 10000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rsyslogd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    caFile,
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
