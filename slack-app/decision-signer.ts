import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { rawPublicKeyHex } from '../src/approval/decider-keys';
import type { DecisionInput } from '../workflows/approval-contract';
import { decisionSigningPayload } from '../workflows/decision-signature';

/** Signs decisions as the Slack app; the private key stays in the worker's process. */
export interface DecisionSigner {
  /** the raw public key, hex: must be listed in approvals.deciderPublicKeys */
  readonly publicKey: string;
  sign(approvalId: string, fingerprint: string, input: Omit<DecisionInput, 'signature'>, signedAt: number): DecisionInput;
}

export function createDecisionSigner(privateKey: KeyObject): DecisionSigner {
  const publicKey = rawPublicKeyHex(createPublicKey(privateKey));
  return {
    publicKey,
    sign(approvalId, fingerprint, input, signedAt) {
      const payload = decisionSigningPayload(approvalId, fingerprint, input, signedAt);
      const value = sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('hex');
      return { ...input, signature: { publicKey, signedAt, value } };
    },
  };
}
