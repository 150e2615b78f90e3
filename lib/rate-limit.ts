import "server-only";
import { AppError } from "./errors";
import { tokenkeeper } from "./tokenkeeper";

// The per-user proxy rate: a token bucket per user (TOKENKEEPER_PROXY_RATE, default 10
// calls a second, bursts of 20), held in this instance's memory. On many instances
// each keeps its own buckets: it bounds what one user makes one instance do, not the
// sum across instances (the README says so).

export type Bucket = { tokens: number; at: number };
export type Rate = { perSecond: number; burst: number };

/**
 * Takes one call from `bucket` at `now` (ms): the bucket after it, and when a call
 * is refused, how long until one would be allowed (ms). Pure.
 */
export function takeToken(bucket: Bucket | undefined, now: number, { perSecond, burst }: Rate): { bucket: Bucket; waitMs: number } {
  const tokens = bucket ? Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond) : burst;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, waitMs: 0 };
  return { bucket: { tokens, at: now }, waitMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };
}

const buckets = new Map<string, Bucket>();
// Past this many users, buckets that have filled up again are forgotten (a full bucket and none are the same).
const MAX_BUCKETS = 10_000;

/** One proxy call for `userId`, or 429 rate_limited with Retry-After. */
export function takeProxyCall(userId: string, now = Date.now()): void {
  const rate = tokenkeeper().config.TOKENKEEPER_PROXY_RATE;
  const { bucket, waitMs } = takeToken(buckets.get(userId), now, rate);
  buckets.set(userId, bucket);
  if (buckets.size > MAX_BUCKETS) {
    for (const [id, held] of buckets) if (held.tokens + ((now - held.at) / 1000) * rate.perSecond >= rate.burst) buckets.delete(id);
  }
  if (waitMs > 0) {
    throw new AppError("rate_limited", `at most ${rate.perSecond} proxy calls a second (bursts of ${rate.burst}) per user`, { retryAfter: new Date(now + waitMs) });
  }
}
