import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether two secrets are equal, compared in constant time: both sides are hashed
 * first, so their lengths never differ and neither leaks through timing.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
