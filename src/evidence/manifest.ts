import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalBytes } from '../audit/sequencer';
import type { BundleFile } from './bundle';

/**
 * manifest.json lists every other file of the bundle with its sha256 and size; manifest.sig is the
 * Ed25519 signature over the manifest's canonical form (RFC 8785, the same canonicalisation as the
 * audit events), base64. The public key is inside the manifest, so anyone can check the bundle is
 * whole; whether the key is the organisation's is checked by its fingerprint against the
 * published one (`vecgate evidence verify --key`).
 */

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
export const MANIFEST_FORMAT = 'vecgate-evidence/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  period: { from: string; to: string };
  tool: { name: 'vecgate'; version: string };
  generatedAt: string;
  /** true when --unmasked: renderings and histories hold personal data as it was */
  unmasked: boolean;
  /** per instance: the checkpoint the bundle's trail is proven against */
  checkpoints: Array<{ instanceId: string; size: number; root: string; note: string }>;
  /** every file of the bundle but manifest.json and manifest.sig, by path */
  files: BundleFile[];
  signature: {
    algorithm: 'Ed25519';
    keyName: string;
    /** SPKI PEM */
    publicKey: string;
    /** sha256 of the DER public key, hex: `openssl pkey -pubin -in key.pub -outform DER | sha256sum` */
    fingerprint: string;
    /** what is signed, so the rule travels with the bundle */
    rule: string;
  };
}

export const SIGNATURE_RULE = 'manifest.sig holds base64(Ed25519(RFC 8785 canonical JSON of manifest.json))';

export class EvidenceKeyError extends Error {
  readonly code = 'EVIDENCE_KEY';
}

export function readEvidenceKey(file: string | undefined): KeyObject {
  if (!file) throw new EvidenceKeyError('No key to sign the bundle with: set evidence.keyFile in the configuration to a PKCS8 PEM Ed25519 key (make one with: openssl genpkey -algorithm ed25519 -out evidence.pem).');
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new EvidenceKeyError(`evidence.keyFile ${file} cannot be read as a PEM private key (${(err as Error).message}); make one with: openssl genpkey -algorithm ed25519 -out ${file}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new EvidenceKeyError(`evidence.keyFile ${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key; bundles are signed with Ed25519 (openssl genpkey -algorithm ed25519)`);
  return key;
}

export function fingerprint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

export function signatureBlock(privateKey: KeyObject, keyName: string): Manifest['signature'] {
  const publicKey = createPublicKey(privateKey);
  return { algorithm: 'Ed25519', keyName, publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(), fingerprint: fingerprint(publicKey), rule: SIGNATURE_RULE };
}

export function signManifest(manifest: Manifest, privateKey: KeyObject): string {
  return `${sign(null, canonicalBytes(manifest), privateKey).toString('base64')}\n`;
}

export type SignatureVerdict = { ok: true; fingerprint: string } | { ok: false; reason: string };

/**
 * Checks manifest.sig with the key the manifest names, and, when the auditor gives one, that this
 * key is the expected one (a PEM public key or its fingerprint).
 */
export function checkManifestSignature(manifest: Manifest, signature: string, expected?: string): SignatureVerdict {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(manifest.signature.publicKey);
  } catch (err) {
    return { ok: false, reason: `manifest.json: signature.publicKey is not a PEM public key (${(err as Error).message})` };
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return { ok: false, reason: 'manifest.json: signature.publicKey is not an Ed25519 key' };
  const print = fingerprint(publicKey);
  if (print !== manifest.signature.fingerprint) return { ok: false, reason: `manifest.json: signature.fingerprint ${manifest.signature.fingerprint} is not the fingerprint of its public key (${print})` };
  const sig = Buffer.from(signature.trim(), 'base64');
  if (sig.length !== 64 || !verify(null, canonicalBytes(manifest), publicKey, sig)) {
    return { ok: false, reason: 'manifest.sig: the signature does not match manifest.json: the manifest was changed after it was signed, or signed by another key' };
  }
  if (expected !== undefined) {
    const want = expectedFingerprint(expected);
    if (want !== print) return { ok: false, reason: `manifest.sig: signed by key ${print}, not by the expected key ${want}` };
  }
  return { ok: true, fingerprint: print };
}

/** --key: a fingerprint (64 hex), or a PEM public (or private) key given as text or as a file. */
export function expectedFingerprint(key: string): string {
  const trimmed = key.trim();
  if (/^(sha256:)?[0-9a-f]{64}$/i.test(trimmed)) return trimmed.replace(/^sha256:/i, '').toLowerCase();
  const pem = trimmed.includes('-----BEGIN') ? trimmed : readFileSync(trimmed, 'utf8');
  return fingerprint(createPublicKey(pem));
}
