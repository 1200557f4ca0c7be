import { generateKeyPairSync } from 'node:crypto';
import { createDecisionSigner, type DecisionSigner } from '../../slack-app/decision-signer';
import { rawPublicKeyHex } from '../../src/approval/decider-keys';

/** An Ed25519 decider key pair for tests: the PEM forms the configuration takes, and the hex key the workflow sees. */
export interface TestDecider {
  privateKeyPem: string;
  publicKeyPem: string;
  /** raw public key, hex (ApprovalRequest.deciderKeys) */
  publicKey: string;
  signer: DecisionSigner;
}

export function makeTestDecider(): TestDecider {
  const pair = generateKeyPairSync('ed25519');
  const privateKeyPem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return {
    privateKeyPem,
    publicKeyPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey: rawPublicKeyHex(pair.publicKey),
    signer: createDecisionSigner(pair.privateKey),
  };
}
