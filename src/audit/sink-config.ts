import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditConfig } from '../config/schema';
import { jsonLinesSink, syslogSink, type AuditSink } from './sinks';

/** The sinks the configuration names, with their TLS files read. */
export function sinksFrom(sinks: AuditConfig['sinks'], logger: Logger): AuditSink[] {
  const out: AuditSink[] = [];
  if (sinks.jsonl) out.push(jsonLinesSink(sinks.jsonl, logger));
  if (sinks.syslog) {
    const { tls, ...rest } = sinks.syslog;
    const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
    out.push(
      syslogSink(
        {
          ...rest,
          ...(tls ? { tls: { ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile), serverName: tls.serverName, rejectUnauthorized: tls.rejectUnauthorized } } : {}),
        },
        logger,
      ),
    );
  }
  return out;
}
