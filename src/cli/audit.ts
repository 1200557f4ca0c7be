import { MongoClient } from 'mongodb';
import { bucketCredentialsFrom } from '../config/load';
import type { Config } from '../config/schema';
import { checkpointBucketClient, checkpointBucketSettings, notesInBucket } from '../audit/checkpoint-bucket';
import type { CheckpointNote } from '../audit/checkpoint-store';
import { checkpointVerifiers } from '../audit/settings';
import { proveRequest, type InclusionReport } from '../audit/prove';
import { verifyTrail, type VerifyReport } from '../audit/verify';

/** `vecgate audit verify` and `vecgate audit prove`: text for people, JSON for tools; the exit code says the verdict. */

type Env = Readonly<Record<string, string | undefined>>;

// `env` names the checkpoint bucket's credentials; the CLI reads the environment at its edge
export async function auditVerify(config: Config, options: { from?: string; to?: string; json?: boolean }, env: Env = process.env): Promise<{ report: VerifyReport; text: string }> {
  const verifiers = checkpointVerifiers(config.audit);
  if (verifiers.length === 0) throw new Error('No key to check checkpoints with: set audit.checkpoints.keyFile or audit.checkpoints.verifierKeys in the configuration.');
  const from = options.from ? parseDate(options.from, '--from') : undefined;
  const to = options.to ? parseDate(options.to, '--to') : undefined;
  const bucketNotes = await checkpointsInBucket(config, env);
  const mongo = await MongoClient.connect(config.audit.mongodbUri, { serverSelectionTimeoutMS: 5000, appName: 'vecgate-audit-verify' });
  try {
    const report = await verifyTrail(mongo.db(config.audit.database), {
      collection: config.audit.collection,
      checkpointDir: config.audit.checkpoints.dir,
      ...(bucketNotes ? { bucketNotes } : {}),
      verifiers,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
    return { report, text: options.json ? `${JSON.stringify(report, null, 2)}\n` : verifyText(report) };
  } finally {
    await mongo.close();
  }
}

export async function auditProve(config: Config, requestId: string, json?: boolean, env: Env = process.env): Promise<{ report: InclusionReport; text: string }> {
  const bucketNotes = await checkpointsInBucket(config, env);
  const mongo = await MongoClient.connect(config.audit.mongodbUri, { serverSelectionTimeoutMS: 5000, appName: 'vecgate-audit-prove' });
  try {
    const report = await proveRequest(mongo.db(config.audit.database), { collection: config.audit.collection, checkpointDir: config.audit.checkpoints.dir, ...(bucketNotes ? { bucketNotes } : {}), verifiers: checkpointVerifiers(config.audit) }, requestId);
    return { report, text: json ? `${JSON.stringify(report, null, 2)}\n` : proveText(report) };
  } finally {
    await mongo.close();
  }
}

/** Every checkpoint version in the configured bucket, read with the credentials its configuration names. */
async function checkpointsInBucket(config: Config, env: Env): Promise<CheckpointNote[] | undefined> {
  const s3 = config.audit.checkpoints.s3;
  if (!s3) return undefined;
  const credentials = bucketCredentialsFrom(s3, env);
  if ('key' in credentials) throw new Error(`${credentials.key}: ${credentials.message}`);
  const settings = checkpointBucketSettings(s3, credentials);
  const client = checkpointBucketClient(settings);
  try {
    return await notesInBucket(client, settings);
  } catch (err) {
    throw new Error(`The checkpoint bucket ${s3.bucket} could not be read (${(err as Error).message}); verify needs it: check ${s3.endpoint ?? 'the S3 endpoint'} and the credentials in ${s3.accessKeyIdEnv}/${s3.secretAccessKeyEnv}.`, { cause: err });
  } finally {
    client.destroy();
  }
}

function verifyText(report: VerifyReport): string {
  const lines: string[] = [];
  for (const i of report.instances) {
    const cp = i.checkpoints[0];
    lines.push(`${i.ok ? 'OK  ' : 'FAIL'} instance ${i.instanceId}: ${i.events} events (last seq ${i.lastSeq}), ${i.checkpoints.length} signed checkpoint(s)${cp ? `, latest at size ${cp.size} (${cp.sources.join(', ')})` : ''}`);
    for (const f of i.findings) lines.push(`     ${f.kind === 'unsigned-tail' ? 'note' : f.kind}: seq ${f.from === f.to ? f.from : `${f.from}-${f.to}`}: ${f.message}`);
    for (const r of i.rejectedCheckpoints) lines.push(`     rejected checkpoint ${r.source}: ${r.reason}`);
    if (i.events > 0 && i.checkpoints.length === 0) lines.push('     no signed checkpoint covers this instance: its events are chained but not proven');
  }
  if (report.instances.length === 0) lines.push('no audit trail found');
  lines.push(report.ok ? 'verdict: every chain verifies against its signed checkpoints' : 'verdict: TAMPERING OR LOSS FOUND (see above); keep the store as it is and follow "When verify fails" in the README');
  return `${lines.join('\n')}\n`;
}

function proveText(r: InclusionReport): string {
  return [
    `request ${r.requestId}: event ${r.seq} of instance ${r.instanceId}`,
    `leaf hash ${r.leafHash}`,
    `checkpoint: tree size ${r.checkpoint.size}, root ${r.checkpoint.root} (${r.checkpoint.source})`,
    `inclusion proof (${r.proof.length} hashes, leaf to root):`,
    ...r.proof.map((h) => `  ${h}`),
    r.verified ? 'verified: the event is in the signed tree, unchanged' : `NOT VERIFIED: ${r.reason ?? ''}`,
    '',
  ].join('\n');
}

/** An ISO 8601 date or date-time given on the command line; anything else is refused with the form to use. */
export function parseDate(value: string, option: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new Error(`${option} ${value} is not a date: use ISO 8601, e.g. 2026-11-30T00:00:00Z`);
  return d;
}
