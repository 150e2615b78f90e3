import "server-only";
import type { Db } from "./client";

/**
 * Deletes the user only if no account links to it: with OAuth-only sign-in such a
 * user cannot sign in at all. One statement, so a link landing meanwhile wins.
 */
export async function deleteUserWithoutAccounts(db: Db, userId: string): Promise<boolean> {
  const deleted = await db.$executeRaw`
    DELETE FROM "User" u
     WHERE u.id = ${userId}
       AND NOT EXISTS (SELECT 1 FROM "Account" a WHERE a."userId" = u.id)`;
  return deleted === 1;
}
