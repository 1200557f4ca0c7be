import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The Ed25519 keys of trusted deciders. Public keys are written in the configuration as SPKI PEM or
 * as base64 of the raw 32 bytes, and used everywhere else as lowercase hex of the raw bytes (the
 * form the workflow sandbox verifies with). The private key, held by the worker only, is PKCS8 PEM.
 */

// the fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): raw key bytes follow it
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class DeciderKeyError extends Error {
  readonly code = 'DECIDER_KEY_INVALID';
}

/** Raw public key as hex, from SPKI PEM, base64 of the raw 32 bytes, or 64 hex digits. */
export function deciderPublicKeyHex(text: string): string {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return trimmed.toLowerCase();
  if (trimmed.includes('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPublicKey(trimmed);
    } catch (err) {
      throw new DeciderKeyError('is not a readable PEM public key', { cause: err });
    }
    return rawPublicKeyHex(key);
  }
  const raw = Buffer.from(trimmed, 'base64');
  if (raw.length !== 32 || raw.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')) {
    throw new DeciderKeyError('must be an Ed25519 public key: SPKI PEM (-----BEGIN PUBLIC KEY-----) or base64 of its 32 raw bytes');
  }
  return raw.toString('hex');
}

export function rawPublicKeyHex(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') throw new DeciderKeyError(`is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; decider keys are Ed25519`);
  const der = key.export({ format: 'der', type: 'spki' });
  if (!der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX)) throw new DeciderKeyError('is not an Ed25519 public key');
  return der.subarray(ED25519_SPKI_PREFIX.length).toString('hex');
}

/** The worker's signing key from PKCS8 PEM. */
export function decisionSigningKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new DeciderKeyError('is not a readable PKCS8 PEM private key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new DeciderKeyError(`is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; the decision signing key is Ed25519 (openssl genpkey -algorithm ed25519)`);
  return key;
}
