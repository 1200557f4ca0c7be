import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { ZipFile } from 'yazl';
import { checkpointVerifiers } from '../audit/settings';
import { temporalConnectionOptions } from '../approval/temporal-connection';
import type { Clock } from '../clock';
import type { Config } from '../config/schema';
import { accessReview, accessReviewRows, ACCESS_REVIEW_COLUMNS } from './access-review';
import { exportApprovals } from './approvals';
import { BundleWriter } from './bundle';
import { buildControlMap, controlMapCsv } from './control-map';
import { csvHeader, csvLines } from './csv';
import { MANIFEST, MANIFEST_FORMAT, readEvidenceKey, signatureBlock, signManifest, SIGNATURE, type Manifest } from './manifest';
import { printPdf } from './pdf';
import { renderReport } from './report';
import type { EvidenceSummary } from './summary';
import { exportTrail, type PreviousCheckpoint } from './trail-section';
import { bucketFor, TrailTally } from './trail-tally';

/**
 * `vecgate evidence export`: the signed bundle an auditor is handed, made from MongoDB (the audit
 * trail) and Temporal (the approval histories) alone, without a gateway. Every section streams
 * into the BundleWriter, which knows each file's sha256 for the manifest without reading it back.
 */

export interface ExportOptions {
  config: Config;
  temporalApiKey?: string;
  /** the masking token style's key (LoadedConfig.maskingTokenKey), for renderings masked with tokens */
  maskingTokenKey?: Buffer;
  from: Date;
  to: Date;
  out: string;
  zip?: boolean;
  sinceBundle?: string;
  unmasked?: boolean;
  pdf?: boolean;
  clock: Clock;
  /** progress lines for the operator */
  log?: (line: string) => void;
}

export interface ExportResult {
  dir: string;
  zip?: string;
  summary: EvidenceSummary;
  manifest: Manifest;
}

export class EvidenceExportError extends Error {
  readonly code = 'EVIDENCE_EXPORT';
}

export async function exportEvidence(options: ExportOptions): Promise<ExportResult> {
  const { config, from, to } = options;
  const log = options.log ?? (() => undefined);
  if (to.getTime() <= from.getTime()) throw new EvidenceExportError(`--to ${to.toISOString()} is not after --from ${from.toISOString()}: give the period's start, then its end`);
  if (existsSync(options.out) && readdirSync(options.out).length > 0) throw new EvidenceExportError(`${options.out} is not empty: export into a new directory, so the bundle holds only this export's files`);
  const zipPath = options.zip ? `${resolve(options.out)}.zip` : undefined;
  if (zipPath && existsSync(zipPath)) throw new EvidenceExportError(`${zipPath} exists already: move it away or export to another directory`);
  const signingKey = readEvidenceKey(config.evidence?.keyFile);
  const previous = options.sinceBundle ? previousCheckpoints(options.sinceBundle) : [];
  const verifiers = checkpointVerifiers(config.audit);
  const generatedAt = new Date(options.clock.now()).toISOString();

  const writer = new BundleWriter(options.out);
  const mongo = await MongoClient.connect(config.audit.mongodbUri, { serverSelectionTimeoutMS: 5000, appName: 'vecgate-evidence-export' });
  const tally = new TrailTally(bucketFor(from, to));
  let trail;
  try {
    log(`trail: reading ${config.audit.database}.${config.audit.collection} from ${from.toISOString()} to ${to.toISOString()}`);
    trail = await exportTrail(
      { db: mongo.db(config.audit.database), collection: config.audit.collection, checkpointDir: config.audit.checkpoints.dir, verifiers, from, to, previous, tally },
      writer,
    );
  } finally {
    await mongo.close();
  }
  log(`trail: ${tally.events} events, verdict ${trail.verification.verdict}`);

  const temporal = config.approvals ? await connectTemporal(config, options.temporalApiKey, log) : undefined;
  let approvals;
  try {
    approvals = await exportApprovals(
      { config, temporal: temporal ? { client: temporal.client, namespace: config.approvals?.temporal.namespace ?? 'default' } : undefined, from, to, expectedApprovalIds: trail.approvalIds, unmasked: options.unmasked ?? false, ...(options.maskingTokenKey ? { maskingTokenKey: options.maskingTokenKey } : {}) },
      writer,
    );
  } finally {
    await temporal?.connection.close();
  }
  log(`approvals: ${approvals.total} workflow(s)${approvals.temporalReached ? '' : ' (Temporal not reached: approvals are not evidenced)'}, ${approvals.missingHistories.length} history(ies) missing`);

  const review = accessReview(trail.rules, [...tally.principals.values()]);
  await writer.writeFile('access-review.json', `${JSON.stringify(review, null, 2)}\n`);
  await writer.writeFile('access-review.csv', csvHeader(ACCESS_REVIEW_COLUMNS) + csvLines(accessReviewRows(review)));

  const written = writer.files().map((f) => f.path);
  const summary: EvidenceSummary = {
    period: { from: from.toISOString(), to: to.toISOString() },
    generatedAt,
    tool: { name: 'vecgate', version: toolVersion() },
    unmasked: options.unmasked ?? false,
    trail: {
      ...tally.summary(),
      ...(tally.denialsOmitted > 0 ? { denialsOmitted: tally.denialsOmitted } : {}),
      instances: trail.verification.instances.map((i) => i.instanceId),
      verdict: trail.verification.verdict,
      verdictLines: trail.verification.verdictLines,
      configurations: trail.configurations,
    },
    approvals,
    accessReview: review,
    files: {
      events: trail.files.events,
      verification: trail.files.verification,
      proofs: trail.files.proofs,
      checkpoints: trail.files.checkpoints,
      configurations: trail.files.configurations,
      histories: written.filter((p) => p.startsWith('approvals/histories/')),
      approvals: written.filter((p) => p.startsWith('approvals/') && !p.startsWith('approvals/histories/')),
      accessReview: ['access-review.json', 'access-review.csv'],
      controlMap: ['control-map.json', 'control-map.csv'],
      report: options.pdf ? ['report.html', 'report.pdf'] : ['report.html'],
      summary: ['summary.json'],
    },
  };
  await writer.writeFile('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  const map = buildControlMap(summary);
  await writer.writeFile('control-map.json', `${JSON.stringify(map, null, 2)}\n`);
  await writer.writeFile('control-map.csv', controlMapCsv(map));
  await writer.writeFile('report.html', renderReport(summary, map));
  if (options.pdf) {
    log('report: printing report.pdf with headless Chromium');
    // printed beside the bundle, then written through the writer so the manifest lists its hash
    const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-pdf-'));
    try {
      await printPdf(join(options.out, 'report.html'), join(scratch, 'report.pdf'));
      await writer.writeFile('report.pdf', readFileSync(join(scratch, 'report.pdf')));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    period: summary.period,
    tool: summary.tool,
    generatedAt,
    unmasked: summary.unmasked,
    checkpoints: trail.verification.instances.flatMap((i) => (i.checkpoint ? [{ instanceId: i.instanceId, size: i.checkpoint.size, root: i.checkpoint.root, note: i.checkpoint.note }] : [])),
    files: writer.files(),
    signature: signatureBlock(signingKey, config.evidence?.keyName ?? 'vecgate/evidence'),
  };
  await writer.writeFile(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  await writer.writeFile(SIGNATURE, signManifest(manifest, signingKey));
  const zip = zipPath ? await zipBundle(options.out, zipPath, writer.files().map((f) => f.path), new Date(generatedAt)) : undefined;
  return { dir: options.out, ...(zip ? { zip } : {}), summary, manifest };
}

/** Each instance's checkpoint in the previous bundle's manifest, with its signed note. */
function previousCheckpoints(dir: string): PreviousCheckpoint[] {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (err) {
    throw new EvidenceExportError(`--since-bundle ${dir}: cannot read its ${MANIFEST} (${(err as Error).message}); point it at the directory of the previous export`);
  }
  return manifest.checkpoints.map((c) => {
    const path = join(dir, ...c.note.split('/'));
    if (!resolve(path).startsWith(resolve(dir))) throw new EvidenceExportError(`--since-bundle ${dir}: checkpoint note ${c.note} lies outside the bundle`);
    return { instanceId: c.instanceId, size: c.size, root: c.root, note: readFileSync(path, 'utf8') };
  });
}

async function connectTemporal(config: Config, apiKey: string | undefined, log: (line: string) => void): Promise<{ client: Client; connection: Connection } | undefined> {
  const temporal = config.approvals?.temporal;
  if (!temporal) return undefined;
  try {
    const connection = await Connection.connect({ ...temporalConnectionOptions(temporal, apiKey), connectTimeout: 5000 });
    return { client: new Client({ connection, namespace: temporal.namespace }), connection };
  } catch (err) {
    log(`approvals: Temporal at ${temporal.address} cannot be reached (${(err as Error).message}); the bundle says approvals are not evidenced`);
    return undefined;
  }
}

/** DIR.zip with the files in path order and one fixed time, so the same bundle zips to the same bytes. */
function zipBundle(dir: string, zipPath: string, paths: readonly string[], mtime: Date): Promise<string> {
  const zip = new ZipFile();
  const top = basename(resolve(dir));
  for (const p of [...paths].sort()) zip.addFile(join(dir, ...p.split('/')), `${top}/${p}`, { mtime, mode: 0o100644 });
  zip.end();
  return new Promise((done, fail) => {
    const out = createWriteStream(zipPath, { flags: 'wx' });
    out.on('error', fail);
    out.on('close', () => done(zipPath));
    zip.outputStream.on('error', fail).pipe(out);
  });
}

/** The version in vecgate's package.json, found from here whether run from src (tests) or dist. */
export function toolVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'vecgate' && pkg.version) return pkg.version;
  }
  return 'unknown';
}
