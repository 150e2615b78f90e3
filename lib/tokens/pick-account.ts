import { invalidRequest, notFound, AppError } from "../errors";

// Which account a request means: pure, tested table-style. A user may link several
// accounts at one provider (two Google accounts), so a provider id names an account
// only while it is the user's one account there.

export type AccountRef = { accountId: string } | { provider: string };

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads `{account}` from a route: a provider id when `providers` enables one by that
 * name, else an account id. 400 when it cannot be either.
 */
export function parseAccountRef(segment: string, providers: ReadonlySet<string>): AccountRef {
  if (!SEGMENT.test(segment)) throw invalidRequest("account must be an account id or a provider id (letters, digits, - or _)");
  return providers.has(segment) ? { provider: segment } : { accountId: segment };
}

/**
 * The one account of `rows` (the user's own) that `ref` names, optionally only at
 * `provider`. 404 when there is none (another user's id included), 409
 * ambiguous_account, listing the ids, when a provider id fits several.
 */
export function pickAccount<T extends { id: string; provider: string }>(rows: T[], ref: AccountRef & { provider?: string }): T {
  if ("accountId" in ref) {
    const row = rows.find((candidate) => candidate.id === ref.accountId && (ref.provider === undefined || candidate.provider === ref.provider));
    if (!row) throw notFound(`no account ${ref.accountId}${ref.provider ? ` at ${ref.provider}` : ""} is linked`);
    return row;
  }
  const matching = rows.filter((row) => row.provider === ref.provider);
  if (matching.length === 0) throw notFound(`no ${ref.provider} account is linked`);
  if (matching.length > 1) {
    const ids = matching.map((row) => row.id);
    throw new AppError("ambiguous_account", `${matching.length} ${ref.provider} accounts are linked: name one by its id (${ids.join(", ")})`, { details: { accounts: ids } });
  }
  return matching[0]!;
}
