import { createHash } from 'node:crypto';
import type { Config } from '../config/schema';
import { canonicalBytes } from './sequencer';

/**
 * The configuration as evidence: the parsed configuration with any password in the MongoDB URI
 * replaced (credentials themselves never sit in the file, only the names of their variables), and
 * the sha256 of its canonical form, which every event carries.
 */
export function configurationEvidence(config: Config): { sha256: string; configuration: Config } {
  const configuration = { ...config, audit: { ...config.audit, mongodbUri: withoutPassword(config.audit.mongodbUri) } };
  const sha256 = createHash('sha256').update(canonicalBytes(JSON.parse(JSON.stringify(configuration)))).digest('hex');
  return { sha256, configuration };
}

function withoutPassword(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]*):[^@/]*@/, '$1:****@');
}
