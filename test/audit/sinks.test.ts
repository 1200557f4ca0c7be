import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AuditRecord } from '../../src/audit/event';
import { GENESIS, seal, type ChainHead } from '../../src/audit/sequencer';
import { formatSyslog, jsonLinesSink, syslogSink } from '../../src/audit/sinks';
import type { SealedEvent } from '../../src/audit/trail-types';
import { eventually } from '../integration/support/eventually';
import { sampleRecord } from './support/records';
import { startRsyslog } from './support/rsyslog';

const logger = pino({ level: 'silent' });

function events(n: number, over: Partial<AuditRecord> = {}): SealedEvent[] {
  let head: ChainHead = GENESIS;
  return Array.from({ length: n }, (_, i) => {
    const s = seal(
      head,
      'gw-1',
      sampleRecord({
        requestId: `r-${i}`,
        time: new Date(Date.UTC(2026, 10, 30, 12, 0, i)),
        principal: { subject: 'alice "the" [analyst]', groups: ['g'], issuer: 'http://idp' },
        request: { method: 'POST', path: '/api/v2/x', endpoint: 'chroma.collection_query' },
        operation: 'search',
        decision: { effect: i % 2 ? 'deny' : 'allow', ruleId: 'r', explanation: 'x' },
        status: i % 2 ? 403 : 200,
        ...over,
      }),
    );
    head = s.head;
    return s.event as SealedEvent;
  });
}

describe('audit sinks', () => {
  it('formats RFC 5424 with the chain position in structured data and escapes SD values', () => {
    const [e] = events(1);
    const line = formatSyslog(e as SealedEvent, { facility: 13, appName: 'vecgate', enterpriseId: 32473 }, 'gw host');
    expect(line.startsWith(`<110>1 2026-11-30T12:00:00.000Z gw_host vecgate gw-1 search [vecgate@32473 instance="gw-1" seq="1" hash="${e?.hash}"`)).toBe(true);
    expect(line).toContain('subject="alice \\"the\\" [analyst\\]"');
    expect(JSON.parse(line.slice(line.indexOf('\ufeff') + 1))).toMatchObject({ seq: 1, requestId: 'r-0' });
  });

  it('writes JSON Lines, one event a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vecgate-jsonl-'));
    const sink = jsonLinesSink({ dir, prefix: 'audit', maxSize: '10M', maxFiles: 3 }, logger);
    sink.send(events(5));
    await sink.close();
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as SealedEvent).seq)).toEqual([1, 2, 3, 4, 5]);
    expect(readdirSync(dir)).toEqual(['audit.jsonl']);
  });

  it.each([['TCP', false], ['TLS', true]])('delivers to a real rsyslog over %s, which parses every field', async (_name, tls) => {
    const rsyslog = await startRsyslog({ tls });
    try {
      const sink = syslogSink(
        {
          host: '127.0.0.1',
          port: rsyslog.port,
          facility: 13,
          appName: 'vecgate',
          enterpriseId: 32473,
          maxQueue: 1000,
          ...(tls ? { tls: { ca: readFileSync(rsyslog.caFile as string, 'utf8'), serverName: 'localhost', rejectUnauthorized: true } } : {}),
        },
        logger,
      );
      sink.send(events(4));
      await eventually('rsyslog received the four events', 10000, () => (rsyslog.lines().length === 4 ? true : undefined));
      await sink.close();
      const [allowed, denied] = rsyslog.lines().map((l) => l.split('|'));
      expect(allowed?.slice(0, 4)).toEqual(['110', 'vecgate', 'gw-1', 'search']);
      expect(denied?.[0]).toBe('108');
      expect(allowed?.[4]).toMatch(/^\[vecgate@32473 instance="gw-1" seq="1" hash="[0-9a-f]{64}"/);
      expect(JSON.parse((allowed?.slice(5).join('|') as string).replace(/^\ufeff/, ''))).toMatchObject({ seq: 1, requestId: 'r-0' });
    } finally {
      await rsyslog.stop();
    }
  });
});
