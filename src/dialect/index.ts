import { VecgateError } from '../errors';
import { chromaDialect } from './chroma';
import type { Dialect, DialectName } from './types';

export * from './types';

/** One entry per DialectName; the compiler refuses a name without a dialect. Dialects are stateless. */
const DIALECTS: Readonly<Record<DialectName, Dialect>> = Object.freeze({
  chroma: chromaDialect,
});

export function dialectFor(name: DialectName): Dialect {
  if (!Object.hasOwn(DIALECTS, name)) {
    // Configuration is validated against DIALECT_NAMES, so only a caller outside the types gets here.
    throw new VecgateError('INTERNAL', `vecgate has no dialect named ${JSON.stringify(name)}; known dialects: ${Object.keys(DIALECTS).join(', ')}.`);
  }
  return DIALECTS[name];
}
