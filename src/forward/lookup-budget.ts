import type { Clock } from '../clock';

/**
 * How many look-ups of unknown collection ids each caller may cause, as a token bucket: `perMinute`
 * a minute on average, up to `perMinute` at once. Every such look-up lists the database's
 * collections, so without a bound one caller sending made-up ids makes the gateway hammer the
 * database. Per gateway instance; the bound on callers kept is `maxCallers` (oldest dropped first).
 */
export class LookupBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: { perMinute: number; clock: Clock; maxCallers?: number },
  ) {}

  /** Takes one look-up from the caller's budget; false when it is spent. */
  take(caller: string): boolean {
    const now = this.options.clock.now();
    const { perMinute } = this.options;
    const bucket = this.buckets.get(caller);
    const tokens = bucket ? Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000) : perMinute;
    this.buckets.delete(caller);
    if (this.buckets.size >= (this.options.maxCallers ?? 100_000)) this.buckets.delete(this.buckets.keys().next().value as string);
    if (tokens < 1) {
      this.buckets.set(caller, { tokens, at: now });
      return false;
    }
    this.buckets.set(caller, { tokens: tokens - 1, at: now });
    return true;
  }
}
