import "server-only";
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Does the Authorization header carry exactly `Bearer <secret>`? Compared in
 * constant time: both sides are hashed first so their lengths never differ.
 */
export function hasBearer(header: string | null, secret: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(header ?? ""), digest(`Bearer ${secret}`));
}
