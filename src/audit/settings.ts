import { randomBytes, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { BucketCredentials } from '../config/load';
import type { AuditConfig } from '../config/schema';
import { checkpointBucketSettings } from './checkpoint-bucket';
import { parseVerifierKey, type NoteSigner, type NoteVerifier } from './checkpoint';
import type { TrailSettings } from './trail';

/** The trail's settings from the configuration, with the checkpoint key read from its file. */
export function trailSettingsFrom(audit: AuditConfig, bucketCredentials?: BucketCredentials): TrailSettings {
  // without credentials (a caller that was not handed them) the bucket is left out: the caller says so
  const s3 = audit.checkpoints.s3;
  return {
    spoolDir: audit.spool.dir,
    spoolMaxBytes: audit.spool.maxBytes,
    segmentBytes: audit.spool.segmentBytes,
    spoolReserveBytes: audit.spool.reserveBytes,
    spoolSync: audit.spool.sync,
    batchSize: audit.batchSize,
    checkpointEvery: audit.checkpoints.everyEvents,
    checkpointMs: audit.checkpoints.everySeconds * 1000,
    leaseMs: audit.leaseSeconds * 1000,
    collection: audit.collection,
    signer: checkpointSigner(audit),
    checkpointDir: audit.checkpoints.dir,
    ...(s3 && bucketCredentials ? { checkpointBucket: checkpointBucketSettings(s3, bucketCredentials) } : {}),
  };
}

export function checkpointSigner(audit: AuditConfig): NoteSigner | undefined {
  const file = audit.checkpoints.keyFile;
  if (!file) return undefined;
  let privateKey;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new Error(`audit.checkpoints.keyFile ${file} cannot be read as a PEM private key (${(err as Error).message}); make one with: openssl genpkey -algorithm ed25519 -out ${file}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`audit.checkpoints.keyFile ${file} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519 (openssl genpkey -algorithm ed25519)`);
  return { name: audit.checkpoints.keyName, privateKey };
}

/** The keys `vecgate audit verify` trusts: the configured verifier keys, and the public half of keyFile when it is readable here. */
export function checkpointVerifiers(audit: AuditConfig): NoteVerifier[] {
  const verifiers = audit.checkpoints.verifierKeys.map(parseVerifierKey);
  const signer = audit.checkpoints.keyFile ? checkpointSigner(audit) : undefined;
  if (signer) verifiers.push({ name: signer.name, publicKey: createPublicKey(signer.privateKey) });
  return verifiers;
}

/**
 * The instance id: configured, or made once and kept in the spool directory, so a restarted
 * gateway continues its own chain from its own spool.
 */
export function resolveInstanceId(configured: string | undefined, spoolDir: string): string {
  if (configured) return configured;
  mkdirSync(spoolDir, { recursive: true });
  const file = join(spoolDir, 'instance-id');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9._-]{1,128}$/.test(kept)) return kept;
  } catch {
    // first start with this spool
  }
  const made = `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100)}-${randomBytes(4).toString('hex')}`;
  writeFileSync(file, `${made}\n`, { flag: 'wx' });
  return made;
}
