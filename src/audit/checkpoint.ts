import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Checkpoints of the audit tree in the C2SP formats, so any transparency-log tool can read them:
 * a tlog-checkpoint body (origin, tree size, root hash) wrapped in a signed note whose Ed25519
 * signature line names the key. Pure apart from the signing key handed in.
 */

export interface Checkpoint {
  /** names the log: one per gateway instance, e.g. "vecgate.example/audit/gw-1" */
  origin: string;
  size: number;
  root: Buffer;
}

/** A signer: the key name that verifiers know and the private Ed25519 key. */
export interface NoteSigner {
  name: string;
  privateKey: KeyObject;
}

/** A verifier: the key name and the public Ed25519 key. */
export interface NoteVerifier {
  name: string;
  publicKey: KeyObject;
}

const ED25519 = 0x01;
const DASH = '\u2014 ';
const MAX_NOTE_BYTES = 1 << 20;
const MAX_SIGNATURES = 100;

export class CheckpointError extends Error {
  readonly code = 'CHECKPOINT_INVALID';
}

/** The tlog-checkpoint body: three lines, each ending in a newline. */
export function checkpointText(c: Checkpoint): string {
  if (!isKeyName(c.origin)) throw new CheckpointError(`"${c.origin}" cannot be a checkpoint origin: it must be printable without spaces or +`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new CheckpointError(`tree size ${c.size} is not a whole number`);
  if (c.root.length !== 32) throw new CheckpointError('the root hash must be 32 bytes');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  const [origin, size, root] = lines;
  if (lines.length < 4 || lines[lines.length - 1] !== '' || !origin || !size || !root) throw new CheckpointError('a checkpoint is an origin, a tree size and a root hash, one per line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) throw new CheckpointError(`"${size.slice(0, 32)}" is not a tree size`);
  const hash = Buffer.from(root, 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== root) throw new CheckpointError('the root hash is not 32 bytes of standard base64');
  return { origin, size: Number(size), root: hash };
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4] */
export function keyId(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256').update(name).update(Buffer.from([0x0a, ED25519])).update(rawPublicKey(publicKey)).digest().subarray(0, 4);
}

/** The verifier key text: <name>+<hex key ID>+<base64(0x01 || public key)>. */
export function verifierKeyText(name: string, publicKey: KeyObject): string {
  return `${name}+${keyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), rawPublicKey(publicKey)]).toString('base64')}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  // the name holds no '+', the hex id neither; the base64 key may
  const [name, id, ...keyParts] = text.trim().split('+');
  const key = keyParts.join('+');
  if (!name || !id || !key || !isKeyName(name)) throw new CheckpointError('a verifier key reads <name>+<hex id>+<base64 key>');
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new CheckpointError('the verifier key is not an Ed25519 key');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  if (keyId(name, publicKey).toString('hex') !== id.toLowerCase()) throw new CheckpointError('the verifier key id does not match its name and key');
  return { name, publicKey };
}

export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n') || text.includes('\n\n') || hasControl(text)) throw new CheckpointError('a note text ends in a newline and holds no blank line or control character');
  const publicKey = createPublicKey(signer.privateKey);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${DASH}${signer.name} ${Buffer.concat([keyId(signer.name, publicKey), signature]).toString('base64')}\n`;
}

export type NoteVerdict = { ok: true; text: string } | { ok: false; reason: string };

/**
 * Opens a signed note with the verifiers: true only when a line of a known key (name and key ID)
 * carries a valid signature. A bad signature by a known key rejects the note; unknown keys are
 * ignored, as the C2SP spec says.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): NoteVerdict {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) return { ok: false, reason: 'the note is too large' };
  if (hasControl(note)) return { ok: false, reason: 'the note holds a control character' };
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { ok: false, reason: 'the note has no signature block' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return { ok: false, reason: 'the note has too many signatures' };
  let verified = false;
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return { ok: false, reason: 'a signature line is malformed' };
    const [, name, b64] = m as unknown as [string, string, string];
    const sig = Buffer.from(b64, 'base64');
    if (sig.length < 5) return { ok: false, reason: 'a signature line is malformed' };
    const known = verifiers.find((v) => v.name === name && keyId(v.name, v.publicKey).equals(sig.subarray(0, 4)));
    if (!known) continue;
    if (!verify(null, Buffer.from(text, 'utf8'), known.publicKey, sig.subarray(4))) return { ok: false, reason: `the signature of key ${name} does not match the text` };
    verified = true;
  }
  return verified ? { ok: true, text } : { ok: false, reason: 'no signature by a trusted key' };
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new CheckpointError('checkpoint keys must be Ed25519');
  return Buffer.from(jwk.x, 'base64url');
}

function isKeyName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name) && !hasControl(name);
}

function hasControl(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  return /[\u0000-\u0009\u000b-\u001f]/.test(s);
}
