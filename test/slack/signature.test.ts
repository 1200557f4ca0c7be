import { checkSlackSignature, SIGNATURE_MAX_AGE_MS } from '../../slack-app/signature';
import { slackSignature } from '../../src/devstack/slack-signing';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_800_000_000_000;
const TS = NOW / 1000;
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';

describe('checkSlackSignature', () => {
  it.each<[string, { timestamp?: string; signedAt?: number; signature?: string; body?: string }, ReturnType<typeof checkSlackSignature>]>([
    ['a correct signature', {}, undefined],
    ['a timestamp 4m59s old', { timestamp: String(TS - 299) }, undefined],
    ['a timestamp 4m59s ahead', { timestamp: String(TS + 299) }, undefined],
    ['no timestamp', { timestamp: '' }, 'MISSING_HEADERS'],
    ['no signature', { signature: '' }, 'MISSING_HEADERS'],
    ['a non-numeric timestamp', { timestamp: '17e8' }, 'BAD_TIMESTAMP'],
    ['a timestamp 5m01s old', { timestamp: String(TS - 301) }, 'STALE_TIMESTAMP'],
    ['a timestamp 5m01s ahead', { timestamp: String(TS + 301) }, 'STALE_TIMESTAMP'],
    ['another version', { signature: `v1=${'a'.repeat(64)}` }, 'BAD_FORMAT'],
    ['uppercase hex', { signature: slackSignature(SECRET, TS, BODY).toUpperCase().replace('V0=', 'v0=') }, 'BAD_FORMAT'],
    ['a signature with trailing bytes', { signature: `${slackSignature(SECRET, TS, BODY)}00` }, 'BAD_FORMAT'],
    ['a signature over another body', { body: `${BODY}&x=1` }, 'MISMATCH'],
    ['a signature with another secret', { signature: slackSignature('another-secret', TS, BODY) }, 'MISMATCH'],
    ['a signature for another timestamp', { timestamp: String(TS - 1), signedAt: TS }, 'MISMATCH'],
  ])('%s', (_what, change, expected) => {
    const timestamp = change.timestamp ?? String(TS);
    const signature = change.signature ?? slackSignature(SECRET, change.signedAt ?? Number(timestamp), BODY);
    expect(checkSlackSignature({ rawBody: Buffer.from(change.body ?? BODY), timestamp, signature }, SECRET, NOW)).toBe(expected);
  });

  it('uses a five-minute window', () => {
    expect(SIGNATURE_MAX_AGE_MS).toBe(300_000);
  });
});
