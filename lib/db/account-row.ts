import "server-only";
import { Prisma, type Account } from "./generated/client";

// What the Account statements share (lib/db/accounts.ts: reads, sign-in, sign-out,
// unlinking; lib/db/refresh.ts: the refresh path): the row, what a write reports, and
// the state fresh tokens leave an account in. Neither of those modules owns these.

export type AccountRow = Account;

/** How many rows a statement changed, and how many webhook events it wrote with them. */
export type Written = { written: number; events: number };

/**
 * What every write of new tokens (a refresh, a sign-in) also sets: no failure, no
 * back-off, no lease, so a refresh still in flight cannot store its older answer.
 */
export const FRESH_TOKENS_STATE = Prisma.sql`
  "failureCount" = 0, "lastError" = NULL, "retryAfter" = NULL, "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = now()`;
