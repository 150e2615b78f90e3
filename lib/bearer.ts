import "server-only";
import { sameSecret } from "./constant-time";

/** Does the Authorization header carry exactly `Bearer <secret>`? Compared in constant time. */
export function hasBearer(header: string | null, secret: string): boolean {
  return sameSecret(header ?? "", `Bearer ${secret}`);
}
