import type { Clock } from '../clock';
import type { Config } from '../config/schema';
import { exportEvidence, type ExportResult } from '../evidence/export';
import { verdictText, verifyBundle, type BundleVerdict } from '../evidence/verify-bundle';
import { parseDate } from './audit';

/** `vecgate evidence export` and `vecgate evidence verify`: text for people, JSON for tools; the exit code says the verdict. */

export interface ExportFlags {
  from: string;
  to: string;
  out: string;
  zip?: boolean;
  sinceBundle?: string;
  unmasked?: boolean;
  pdf?: boolean;
}

export async function evidenceExport(config: Config, flags: ExportFlags, deps: { clock: Clock; temporalApiKey?: string; maskingTokenKey?: Buffer; log: (line: string) => void }): Promise<{ result: ExportResult; text: string }> {
  const from = parseDate(flags.from, '--from');
  const to = parseDate(flags.to, '--to');
  const result = await exportEvidence({
    config,
    from,
    to,
    out: flags.out,
    zip: flags.zip ?? false,
    ...(flags.sinceBundle ? { sinceBundle: flags.sinceBundle } : {}),
    unmasked: flags.unmasked ?? false,
    pdf: flags.pdf ?? false,
    clock: deps.clock,
    ...(deps.temporalApiKey ? { temporalApiKey: deps.temporalApiKey } : {}),
    ...(deps.maskingTokenKey ? { maskingTokenKey: deps.maskingTokenKey } : {}),
    log: deps.log,
  });
  const s = result.summary;
  const text = [
    `bundle ${result.dir}${result.zip ? ` (and ${result.zip})` : ''}: ${result.manifest.files.length} files`,
    `period ${s.period.from} to ${s.period.to}: ${s.trail.events} audit events (${s.trail.requests} requests) from ${s.trail.instances.length} instance(s); ${s.approvals.total} approval(s)`,
    `trail verdict: ${s.trail.verdict}`,
    ...(s.approvals.temporalReached ? [] : ['approvals: Temporal was not reached or not configured: the bundle says approvals are not evidenced']),
    ...(s.approvals.missingHistories.length > 0 ? [`approvals: ${s.approvals.missingHistories.length} approval(s) named in the trail have no Temporal history (retention?): ${s.approvals.missingHistories.slice(0, 5).join(', ')}`] : []),
    ...(s.unmasked ? ['UNMASKED: renderings and histories hold personal data as it was (recorded in the manifest)'] : []),
    `signed with ${result.manifest.signature.keyName}, key fingerprint ${result.manifest.signature.fingerprint}`,
    `check it with: vecgate evidence verify ${result.dir} --key ${result.manifest.signature.fingerprint}`,
    '',
  ].join('\n');
  return { result, text };
}

export async function evidenceVerify(dir: string, options: { key?: string; json?: boolean }): Promise<{ verdict: BundleVerdict; text: string }> {
  const verdict = await verifyBundle(dir, options.key ? { key: options.key } : {});
  return { verdict, text: options.json ? `${JSON.stringify(verdict, null, 2)}\n` : verdictText(verdict) };
}
