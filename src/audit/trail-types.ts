import type { AuditEvent, AuditRecord } from './event';
import type { ChainLinks } from './sequencer';

/** An audit event as the chain sealed it. */
export type SealedEvent = AuditEvent & ChainLinks;

/**
 * What the spool holds: sealed events, and intents written before a change or an export is
 * forwarded, so a crash between forwarding and the event still leaves a record of the attempt.
 */
export type SpoolFrame = { t: 'e'; e: SealedEvent } | { t: 'i'; requestId: string; r: AuditRecord };
