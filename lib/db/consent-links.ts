import "server-only";
import type { Db } from "./client";

// Consent links are single-use: the first opening that starts a consent records the
// link's jti. ONE statement, so two openings at once cannot both win.

/**
 * Records that the consent link `jti` (valid until `expiresAt`) is being used: true
 * the first time, false when it was used before. Deletes rows of links that expired
 * an hour ago (the signature check refuses those already; the hour covers the app's
 * clock running behind the database's), so the table stays small.
 */
export async function claimConsentLink(db: Db, jti: string, expiresAt: Date): Promise<boolean> {
  const [row] = await db.$queryRaw<{ claimed: number }[]>`
    WITH pruned AS (
      DELETE FROM "ConsentLinkUse" WHERE "expiresAt" < now() - interval '1 hour'),
    claimed AS (
      INSERT INTO "ConsentLinkUse" (jti, "expiresAt") VALUES (${jti}, ${expiresAt})
      ON CONFLICT (jti) DO NOTHING
      RETURNING jti)
    SELECT count(*)::int AS claimed FROM claimed`;
  return row!.claimed === 1;
}
