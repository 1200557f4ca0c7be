import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  checkpointText,
  keyId,
  openNote,
  parseCheckpointText,
  parseVerifierKey,
  signNote,
  verifierKeyText,
} from '../../src/audit/checkpoint';

// The example key of the C2SP signed-note spec ("PeterNeumann"), from the Go sumdb/note documentation:
// a known name, key and key id to check our key id and verifier key text against.
const SPEC_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';

function keys() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey };
}

describe('checkpoint text (C2SP tlog-checkpoint)', () => {
  const root = Buffer.alloc(32, 7);
  it('is origin, size and root, one per line', () => {
    expect(checkpointText({ origin: 'vecgate.test/audit/gw-1', size: 42, root })).toBe(`vecgate.test/audit/gw-1\n42\n${root.toString('base64')}\n`);
  });
  it('parses back', () => {
    expect(parseCheckpointText(checkpointText({ origin: 'o', size: 0, root }))).toEqual({ origin: 'o', size: 0, root });
  });
  it.each([
    ['no final newline', `o\n1\n${root.toString('base64')}`],
    ['a leading zero', `o\n01\n${root.toString('base64')}\n`],
    ['a negative size', `o\n-1\n${root.toString('base64')}\n`],
    ['a short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['no origin', `\n1\n${root.toString('base64')}\n`],
  ])('refuses %s', (_why, text) => {
    expect(() => parseCheckpointText(text)).toThrow();
  });
  it('refuses an origin with a space', () => {
    expect(() => checkpointText({ origin: 'a b', size: 1, root })).toThrow();
  });
});

describe('signed notes (C2SP signed-note, Ed25519)', () => {
  it('computes the key id of the spec example', () => {
    const v = parseVerifierKey(SPEC_VKEY);
    expect(keyId(v.name, v.publicKey).toString('hex')).toBe('c74f20a3');
    expect(verifierKeyText(v.name, v.publicKey)).toBe(SPEC_VKEY);
  });

  it('verifies what it signed and returns the text', () => {
    const k = keys();
    const text = checkpointText({ origin: 'vecgate.test/audit/gw-1', size: 3, root: Buffer.alloc(32, 1) });
    const note = signNote(text, { name: 'vecgate.test/audit', privateKey: k.privateKey });
    expect(note.startsWith(`${text}\n\u2014 vecgate.test/audit `)).toBe(true);
    expect(openNote(note, [{ name: 'vecgate.test/audit', publicKey: k.publicKey }])).toEqual({ ok: true, text });
  });

  it('round-trips the verifier key text, whatever characters the base64 key holds', () => {
    // one in a few keys has a "+" in its base64: fifty make sure such keys are among them
    for (let i = 0; i < 50; i++) {
      const k = keys();
      const v = parseVerifierKey(verifierKeyText('vecgate.test/audit', k.publicKey));
      expect(v.publicKey.export({ format: 'jwk' })).toEqual(k.publicKey.export({ format: 'jwk' }));
    }
  });

  it('refuses an edited text, another key, and a signature by an unknown key only', () => {
    const k = keys();
    const other = keys();
    const note = signNote('o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', { name: 'k', privateKey: k.privateKey });
    const trusted = [{ name: 'k', publicKey: k.publicKey }];
    expect(openNote(note.replace('\n5\n', '\n6\n'), trusted)).toEqual({ ok: false, reason: 'the signature of key k does not match the text' });
    expect(openNote(note, [{ name: 'k', publicKey: other.publicKey }])).toEqual({ ok: false, reason: 'no signature by a trusted key' });
    const forged = signNote('o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', { name: 'k', privateKey: other.privateKey });
    expect(openNote(forged, trusted).ok).toBe(false);
  });

  it('refuses malformed notes', () => {
    const k = keys();
    const trusted = [{ name: 'k', publicKey: k.publicKey }];
    const note = signNote('t\n', { name: 'k', privateKey: k.privateKey });
    expect(openNote('t\n', trusted).ok).toBe(false);
    expect(openNote(note.replace('\u2014', '-'), trusted).ok).toBe(false);
    expect(openNote(note.replace('t\n', 't\u0007\n'), trusted).ok).toBe(false);
    expect(() => signNote('no newline', { name: 'k', privateKey: k.privateKey })).toThrow();
    expect(() => signNote('a\n\nb\n', { name: 'k', privateKey: k.privateKey })).toThrow();
  });

  it('reads keys from PEM as operators keep them', () => {
    const k = keys();
    const pem = k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const privateKey = createPrivateKey(pem);
    const note = signNote('t\n', { name: 'k', privateKey });
    expect(openNote(note, [{ name: 'k', publicKey: createPublicKey(privateKey) }]).ok).toBe(true);
  });
});
