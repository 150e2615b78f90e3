import "server-only";
import { randomUUID } from "node:crypto";
import { findAccountById, findUserAccountsAt } from "../db/accounts";
import type { AccountRow } from "../db/account-row";
import { claimLease, endGrantWithoutRefreshToken, recordFailure, recordUse, writeTokens, type FailureWrite, type TokenWrite } from "../db/refresh";
import { pauseProvider } from "../db/provider-pauses";
import type { Db } from "../db/client";
import type { Outbox } from "../db/outbox";
import { ProviderMisconfiguredError, ProviderUnavailableError, ReauthRequiredError, AppError, notFound } from "../errors";
import { logger } from "../log";
import { countRefresh, inSpan } from "../telemetry";
import type { ProviderSpec } from "../providers/types";
import { LOST_ANSWER, PROVIDER_TIMEOUT_MS, refreshGrant, type RefreshAnswer } from "../providers/requests";
import { acceptedApiBase } from "../providers/api-base";
import { decryptToken, encryptOptional, encryptToken, type Keyring } from "./crypto";
import { batchingWriter } from "./batch-writer";
import { pickAccount } from "./pick-account";
import { DEFAULT_SWEEP_POLICY, LAST_USED_GRANULARITY_MS, nextSweepAt, shouldRecordUse, type SweepPolicy } from "./sweep-policy";
import { grantEndAfterRefresh, reauthWarning, refreshTokenExpiryAfterRefresh } from "./grant-end";
import { accessTokenExpiry, claimCondition, decide } from "./token-decision";
import { createTokenCache, DEFAULT_TOKEN_CACHE_TTL_SECONDS, forgetAccessTokens, lookupKey, type CachedAccount } from "./token-cache";

const log = logger("tokens");

export type EngineOptions = {
  db: Db;
  keyring: Keyring;
  providers: Map<string, ProviderSpec>;
  /** Refresh this long before expiry… */
  skewSeconds: number;
  /** …or this long, for the providers named here (TOKEN_REFRESH_SKEW_SECONDS_<PROVIDER>). */
  skewByProvider?: Record<string, number>;
  /** How long a refresh lease lasts; must exceed the provider timeout. */
  leaseMs?: number;
  /** How often a caller waiting on another instance's refresh re-reads the row. */
  pollMs?: number;
  providerTimeoutMs?: number;
  now?: () => Date;
  /** When the sweep refreshes what (lib/tokens/sweep-policy.ts). */
  sweepPolicy?: SweepPolicy;
  /** Webhooks: write events with the changes they report (null: off). */
  outbox?: Outbox;
  /** Called after a statement wrote events, to send them (the app: after the response). */
  onEvents?: () => void;
  /** Fresh tokens are handed out from memory this long after a read (TOKEN_CACHE_TTL_SECONDS; 0: off). */
  tokenCacheTtlSeconds?: number;
};

/** Persists one refresh; resolves to the new token version, or undefined if the lease was lost. */
export type TokenWriter = (write: TokenWrite) => Promise<number | undefined>;

export type AccountOptions = { accountId?: string };

/** An access token handed out, with what the stored row says of it; `account` is that row (after the refresh, where one ran). */
export type IssuedToken = { accessToken: string; expiresAt: number | null; scope: string | null; tokenType: string | null; refreshed: boolean; account: AccountRow };

/** A refresh its caller decided not to make after all (a sweep out of budget, a paused provider). */
export class RefreshSkipped extends Error {
  override name = "RefreshSkipped";
}

/**
 * used: an on-demand refresh (a use). policy: the sweep run's, for when the account is
 * next due. providerSlot: wraps the provider call (and only it), so a caller that
 * limits concurrency can free its slot when the call settles. proceed: asked as the
 * provider call would start; false (a spent budget, a paused provider) leaves the
 * refresh for later, unrecorded, and it rejects with RefreshSkipped.
 */
export type RefreshOptions = { used?: boolean; policy?: SweepPolicy; providerSlot?: <T>(call: () => Promise<T>) => Promise<T>; proceed?: () => boolean };

/**
 * What the sweep asks of the engine, and all it sees of it: the enabled providers, a
 * lease owner per claim, which rows the current keys cannot decrypt, and the one
 * refresh path with a writer that groups the run's writes (events written and sent
 * as the engine's own are). Its policy is the run's, passed in.
 */
export type SweepSeam = {
  providerIds(): string[];
  newOwner(): string;
  undecryptableMarker: string;
  refresh(row: AccountRow, owner: string, options: Omit<RefreshOptions, "used">): Promise<RefreshOutcome>;
  /** Statements the run's writes took so far. */
  writeStatements(): number;
};

export type RefreshOutcome = { accessToken: string; tokenVersion: number; rotated: boolean; expiresAt: number | null; scope: string | null; tokenType: string | null };

const WRITE_ATTEMPTS = 3;
const WRITE_RETRY_MS = 200;

/** Back-off after a failure without Retry-After: 1 s, 2 s, 4 s … capped at 10 minutes. */
export function backoffMs(failureCount: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failureCount - 1), 10 * 60 * 1000);
}

/**
 * The refresh margin (s) for a caller that needs the token valid `minTtlSeconds`
 * more: the longer of the two, with minTtl counted at most half the token's last
 * lifetime (expires_at − refreshedAt), since no refresh can give more and a longer
 * one would refresh on every call.
 */
export function minTtlSkew(row: Pick<AccountRow, "expires_at" | "refreshedAt">, skewSeconds: number, minTtlSeconds: number): number {
  const lifetime = row.expires_at !== null && row.refreshedAt ? Number(row.expires_at) - Math.floor(row.refreshedAt.getTime() / 1000) : Infinity;
  return Math.max(skewSeconds, Math.min(minTtlSeconds, Math.floor(lifetime / 2)));
}

export function createTokenEngine(options: EngineOptions) {
  const { db, keyring, providers } = options;
  const skewFor = (provider: string) => options.skewByProvider?.[provider] ?? options.skewSeconds;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const providerTimeoutMs = options.providerTimeoutMs ?? PROVIDER_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const instance = randomUUID().slice(0, 8);
  let claims = 0;
  const inFlight = new Map<string, Promise<IssuedToken>>();

  const newOwner = () => `${instance}:${++claims}`;
  const undecryptableMarker = `undecryptable under keys ${keyring.fingerprint}:`;
  const outbox = options.outbox ?? null;
  const sweepPolicy = options.sweepPolicy ?? DEFAULT_SWEEP_POLICY;
  const onEvents = options.onEvents ?? (() => {});
  const tokenCache = createTokenCache({ ttlMs: (options.tokenCacheTtlSeconds ?? DEFAULT_TOKEN_CACHE_TTL_SECONDS) * 1000, now: () => now().getTime() });
  const reported = ({ events }: { events: number }) => {
    if (events > 0) onEvents();
  };

  function spec(provider: string): ProviderSpec {
    const found = providers.get(provider);
    if (!found) throw notFound(`provider "${provider}" is not enabled`);
    return found;
  }

  function unusable(row: AccountRow): AppError {
    if (row.status === "signed_out") return new ReauthRequiredError(`${row.provider} tokens were cleared at sign-out: sign in again`);
    if (row.status === "reauth_required") return new ReauthRequiredError(`${row.provider} needs a new sign-in: ${row.lastError ?? "the grant was revoked"}`);
    return new ReauthRequiredError(`${row.provider} gave no refresh token: sign in again`);
  }

  /** Runs a write of what a refresh brought, retrying a failed write: a rotated refresh token exists nowhere else. */
  async function persist<T>(write: () => Promise<T>, row: AccountRow, rotated: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt < WRITE_ATTEMPTS) {
          log.warn("refresh.write_retry", { accountId: row.id, provider: row.provider, attempt, error });
          await sleep(WRITE_RETRY_MS * attempt);
          continue;
        }
        // Finally lost: with a rotating provider the grant is now unusable, and the
        // next refresh will meet invalid_grant. Said loudly, with the account.
        log.error(rotated ? "refresh.rotation_lost" : "refresh.write_lost", { accountId: row.id, provider: row.provider, attempts: attempt, error });
        throw new AppError("refresh_busy", `the refreshed ${row.provider} tokens could not be stored; try again`, { cause: error });
      }
    }
  }

  /**
   * Records a failed refresh by what it means, and answers the error for the caller:
   * the app's credentials refused → the provider paused, the account untouched;
   * otherwise a failure on the account (reauth_required, or a back-off), storing
   * `rotation` (the spent refresh token's successor) with it.
   */
  async function recordRefreshFailure(row: AccountRow, owner: string, error: unknown, policy: SweepPolicy, started: number, rotation?: FailureWrite["rotation"]): Promise<unknown> {
    if (!(error instanceof AppError) || error.code === "refresh_busy") return error;
    if (error instanceof ProviderMisconfiguredError) {
      const pausedUntil = new Date(now().getTime() + policy.misconfiguredPauseMs);
      reported(await pauseProvider(db, { provider: row.provider, accountId: row.id, owner, error: error.message, pausedUntil }, outbox));
      log.error("provider.misconfigured", { accountId: row.id, provider: row.provider, pausedUntil, error });
      return error;
    }
    const reauthRequired = error instanceof ReauthRequiredError;
    const retryAfter = reauthRequired ? null : (error.retryAfter ?? new Date(now().getTime() + backoffMs(row.failureCount + 1)));
    // A grant that dies right after a lost answer died of it: the event and lastError say so.
    const message = reauthRequired && row.lastError?.includes(LOST_ANSWER) ? `${error.message} (after a refresh whose answer was lost: ${row.lastError})` : error.message;
    const failure = { id: row.id, owner, error: message, retryAfter, reauthRequired, rotation };
    reported(await (rotation ? persist(() => recordFailure(db, failure, outbox), row, true) : recordFailure(db, failure, outbox)));
    log.warn("refresh.failed", { accountId: row.id, provider: row.provider, code: error.code, retryAfter, rotationStored: rotation !== undefined, ms: Date.now() - started });
    // The caller learns when to try again: the provider's Retry-After, or our back-off.
    if (error instanceof ProviderUnavailableError && !error.retryAfter && retryAfter) {
      return new ProviderUnavailableError(error.message, { cause: error, retryAfter, providerStatus: error.providerStatus });
    }
    return error;
  }

  /**
   * The one refresh path, for on-demand reads and the sweep alike: the caller holds
   * the lease on `row`. The new tokens are persisted (compare-and-set on the lease)
   * before the access token is handed to anyone.
   */
  function refreshClaimed(row: AccountRow, owner: string, writer: TokenWriter, options: RefreshOptions = {}): Promise<RefreshOutcome> {
    const attributes = { "tokenkeeper.provider": row.provider, "tokenkeeper.account_id": row.id, "tokenkeeper.trigger": options.used ? "on_demand" : "sweep" };
    return inSpan("tokenkeeper.refresh", attributes, async (span) => {
      const started = Date.now();
      try {
        const outcome = await refreshOnce(row, owner, writer, options);
        span.setAttributes({ "tokenkeeper.outcome": "refreshed", "tokenkeeper.rotated": outcome.rotated, "tokenkeeper.duration_ms": Date.now() - started });
        countRefresh(row.provider, "refreshed");
        return outcome;
      } catch (error) {
        const outcome = error instanceof AppError ? error.code : error instanceof RefreshSkipped ? "skipped" : "internal";
        span.setAttributes({ "tokenkeeper.outcome": outcome, "tokenkeeper.duration_ms": Date.now() - started });
        if (outcome !== "skipped") countRefresh(row.provider, outcome);
        throw error;
      } finally {
        // New tokens, a failure or a reauth: whatever this process cached is out of date.
        forgetAccessTokens({ accountId: row.id });
      }
    });
  }

  async function refreshOnce(row: AccountRow, owner: string, writer: TokenWriter, options: RefreshOptions): Promise<RefreshOutcome> {
    const { used = false, policy = sweepPolicy } = options;
    const provider = spec(row.provider);
    const started = Date.now();
    let refreshToken: string;
    try {
      refreshToken = await decryptToken(keyring, row.refresh_token ?? "", row, "refresh_token");
    } catch (error) {
      // Recorded, so the dashboard and the API say why; the sweep leaves the row
      // alone until TOKEN_ENCRYPTION_KEYS changes (the marker names these keys).
      const message = error instanceof Error ? error.message : String(error);
      reported(await recordFailure(db, { id: row.id, owner, error: `${undecryptableMarker} ${message}`, retryAfter: null, reauthRequired: false }, outbox));
      log.error("refresh.undecryptable", { accountId: row.id, provider: row.provider, error });
      throw error;
    }
    const grant = () => {
      if (options.proceed && !options.proceed()) throw new RefreshSkipped("the budget is spent or the provider paused");
      return refreshGrant(provider, refreshToken, { timeoutMs: providerTimeoutMs, now });
    };
    let answer: RefreshAnswer;
    try {
      answer = await (options.providerSlot ? options.providerSlot(grant) : grant());
    } catch (error) {
      throw await recordRefreshFailure(row, owner, error, policy, started);
    }
    if (answer.repairs.length > 0) log.warn("refresh.answer_repaired", { accountId: row.id, provider: row.provider, repairs: answer.repairs });
    if (!answer.usable) {
      // The provider spent the old refresh token: keep its successor, whatever else failed.
      const rotation = { refreshToken: await encryptToken(keyring, answer.refreshToken, row, "refresh_token"), refreshTokenExpiresAt: answer.refreshTokenExpiresAt };
      throw await recordRefreshFailure(row, owner, answer.error, policy, started, rotation);
    }
    const tokens = answer;
    const at = now();
    // As the answer said, else as the provider documents, else the stored expiry while the token stands.
    const lifetime = refreshTokenExpiryAfterRefresh(provider.refreshTokenLifetime, tokens.refreshTokenExpiresAt, tokens.rotated, row, at);
    const refreshTokenExpiresAt = lifetime.refreshTokenExpiresAt;
    const reauthBy = lifetime.reauthBy ?? grantEndAfterRefresh(row, refreshTokenExpiresAt, at);
    const warning = reauthWarning(reauthBy, row, policy.reauthWarningDays, at);
    const write: TokenWrite = {
      id: row.id,
      owner,
      accessToken: await encryptToken(keyring, tokens.accessToken, row, "access_token"),
      refreshToken: await encryptToken(keyring, tokens.refreshToken, row, "refresh_token"),
      expiresAt: tokens.expiresAt ? Math.floor(tokens.expiresAt.getTime() / 1000) : null,
      scope: tokens.scope,
      tokenType: tokens.tokenType,
      idToken: await encryptOptional(keyring, tokens.idToken, row, "id_token"),
      // A base the answer named but that is not the provider's is ignored: the stored one stays.
      apiBaseUrl: acceptedApiBase(tokens.apiBase, (reason) => log.warn("refresh.api_base_refused", { accountId: row.id, provider: row.provider, reason })),
      refreshTokenExpiresAt,
      reauthBy,
      reauthWarnedAt: warning.reauthWarnedAt,
      warnReauth: warning.warn,
      // A refresh on demand is a use; a sweep's is not.
      used,
      nextSweepAt: nextSweepAt(policy, { lastUsedAt: used ? at : row.lastUsedAt, expiresAt: tokens.expiresAt, refreshedAt: at, refreshTokenExpiresAt, reauthWarningAt: warning.dueAt }, at),
    };
    const version = await persist(() => writer(write), row, tokens.rotated);
    if (version === undefined) {
      // Our lease ran out and another holder took over: what we got cannot be stored.
      log.error("refresh.lease_lost", { accountId: row.id, provider: row.provider });
      throw new AppError("refresh_busy", `the ${row.provider} refresh outlived its lease; try again`);
    }
    log.info("refresh.done", { accountId: row.id, provider: row.provider, rotated: tokens.rotated, ms: Date.now() - started });
    return {
      accessToken: tokens.accessToken,
      tokenVersion: version,
      rotated: tokens.rotated,
      expiresAt: write.expiresAt,
      scope: write.scope ?? row.scope,
      tokenType: write.tokenType ?? row.token_type,
    };
  }

  /**
   * Records that the stored token was handed out, at most once an hour, off the
   * response path: the fresh-token path stays one round trip, and the sweep keeps
   * this account's token fresh while it is used (the sweep policy).
   */
  function noteUse(row: CachedAccount): void {
    const at = now();
    if (!shouldRecordUse(row.lastUsedAt, at)) return;
    const schedule = {
      lastUsedAt: at,
      expiresAt: accessTokenExpiry(row.expires_at),
      refreshedAt: row.refreshedAt ?? at,
      refreshTokenExpiresAt: row.refreshTokenExpiresAt,
      reauthWarningAt: reauthWarning(row.reauthBy, row, sweepPolicy.reauthWarningDays, at).dueAt,
    };
    const next = nextSweepAt(sweepPolicy, schedule, at);
    void recordUse(db, row.id, next, LAST_USED_GRANULARITY_MS).catch((error: unknown) => log.warn("use.record_failed", { accountId: row.id, error }));
    // So a cached copy of the row does not record the same use again.
    row.lastUsedAt = at;
  }

  /**
   * Acts on decide() until it says use (or fails): claims and refreshes, or waits
   * (bounded) for whoever holds the lease. Only I/O here; the rules are in decide().
   * A claim refused twice running is waited on too: decide() reads a lease's end by
   * the app's clock and the claim by the database's, and while the two disagree
   * asking again at once would only spin.
   * @throws AppError `refresh_busy` when a lease is still held (or a claim still refused) leaseMs + 2 s after this call began.
   */
  async function resolveToken(first: AccountRow, force: boolean, skewSeconds = skewFor(first.provider)): Promise<IssuedToken> {
    // A holder's lease ends by then; the margin absorbs clock skew between app and database.
    const deadline = Date.now() + leaseMs + 2_000;
    const pause = async () => {
      if (Date.now() > deadline) throw new AppError("refresh_busy", `another ${first.provider} refresh is taking too long; try again`);
      await sleep(pollMs);
    };
    const forceAfterVersion = force ? first.tokenVersion : undefined;
    let row = first;
    let refusedClaims = 0;
    for (;;) {
      const judged = { now: now(), skewSeconds, forceAfterVersion };
      const decision = decide(row, judged);
      switch (decision.action) {
        case "use":
          return handOut(row, false);
        case "reauth":
          throw unusable(row);
        case "backoff":
          throw new ProviderUnavailableError(`${row.provider} is backing off after: ${row.lastError ?? "an error"}`, { retryAfter: decision.until });
        case "refresh": {
          const owner = newOwner();
          // Claimed only while decide() would still say so: another instance may have refreshed meanwhile.
          const claimed = await claimLease(db, row.id, { owner, leaseMs, when: claimCondition(judged) });
          if (claimed) {
            // The row as written goes back with the token: the caller need not read it again.
            let written: AccountRow | undefined;
            const writer: TokenWriter = async (write) => {
              const result = await writeTokens(db, [write], outbox, { rows: true });
              reported(result);
              written = result.rows.get(write.id);
              return result.versions.get(write.id);
            };
            const { accessToken, expiresAt, scope, tokenType } = await refreshClaimed(claimed, owner, writer, { used: true });
            return { accessToken, expiresAt, scope, tokenType, refreshed: true, account: written! };
          }
          // The first refusal is read again at once: another instance most likely just claimed or refreshed.
          if (++refusedClaims > 1) await pause();
          break;
        }
        case "wait":
          await pause();
          break;
      }
      const next = await findAccountById(db, row.id);
      if (!next) throw notFound(`the ${row.provider} account was unlinked`);
      row = next;
    }
  }

  /** The stored token of a row decide() said to use, recording the use. */
  async function handOut(row: AccountRow, refreshed: boolean): Promise<IssuedToken> {
    noteUse(row);
    return {
      accessToken: await decryptToken(keyring, row.access_token!, row, "access_token"),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      scope: row.scope,
      tokenType: row.token_type,
      refreshed,
      account: row,
    };
  }

  function singleFlight(key: string, work: () => Promise<IssuedToken>): Promise<IssuedToken> {
    let pending = inFlight.get(key);
    if (!pending) {
      pending = work().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  /** The account meant: by id, or the user's one account at the provider (one round trip). */
  async function load(userId: string, provider: string, { accountId }: AccountOptions): Promise<AccountRow> {
    spec(provider);
    return pickAccount(await findUserAccountsAt(db, userId, provider), accountId === undefined ? { provider } : { accountId, provider });
  }

  /**
   * A valid access token for the user at the provider: the stored one, or a fresh
   * one. `accountId` names one account where the user linked several there.
   */
  async function getAccessToken(userId: string, provider: string, options: AccountOptions = {}): Promise<string> {
    // A repeat call within the cache's TTL: no round trip (lib/tokens/token-cache.ts).
    const key = lookupKey(userId, provider, options.accountId);
    const hit = tokenCache.get(key);
    if (hit) {
      noteUse(hit.account);
      return hit.accessToken;
    }
    const readEpoch = tokenCache.epoch();
    const row = await load(userId, provider, options);
    // The common case decides on the row just read: one round trip, no single-flight.
    const skewSeconds = skewFor(row.provider);
    if (decide(row, { now: now(), skewSeconds }).action === "use") {
      const { accessToken } = await handOut(row, false);
      // Never past the moment the engine would refresh it (a token in back-off is not cached).
      tokenCache.set(key, row, accessToken, { staleAt: row.expires_at === null ? Infinity : (Number(row.expires_at) - skewSeconds) * 1000, readEpoch });
      return accessToken;
    }
    return (await singleFlight(row.id, () => resolveToken(row, false))).accessToken;
  }

  /**
   * The access token of an account already read (resolved once by the caller: the
   * dashboard's routes, the proxy, the service API with its key), valid for at least `minTtlSeconds` (or the refresh margin, whichever is
   * longer): the stored one, or one refresh through the same single-flight and lease
   * as getAccessToken. No refresh can meet a minTtl near the provider's token
   * lifetime, so it counts as at most half that lifetime (else every call would
   * refresh). Throws as getAccessToken does.
   */
  async function issueToken(row: AccountRow, { minTtlSeconds = 0 }: { minTtlSeconds?: number } = {}): Promise<IssuedToken> {
    spec(row.provider);
    const skewSeconds = minTtlSkew(row, skewFor(row.provider), minTtlSeconds);
    if (decide(row, { now: now(), skewSeconds }).action === "use") return handOut(row, false);
    return singleFlight(row.id, () => resolveToken(row, false, skewSeconds));
  }

  /**
   * Refreshes an account already read, even if its token is still valid (the
   * dashboard's "Refresh now", a provider API's 401): one refresh however many ask at
   * once. Resolves to the new token with the row as written; throws as getAccessToken does.
   */
  function forceRefresh(row: AccountRow): Promise<IssuedToken> {
    spec(row.provider);
    return singleFlight(row.id, () => resolveToken(row, true));
  }

  /**
   * The provider's API refused the access token of an account already read (a 401):
   * refreshes now, answering the new token with the row as written; where there is no
   * refresh token (tokens that never expire), the grant is over: the account becomes
   * reauth_required (with its event) and ReauthRequiredError is thrown.
   */
  async function accessTokenRefused(row: AccountRow): Promise<IssuedToken> {
    if (row.refresh_token !== null || row.status !== "active") return forceRefresh(row);
    const error = `${row.provider}'s API refused the access token and there is no refresh token: sign in again`;
    reported(await endGrantWithoutRefreshToken(db, { id: row.id, tokenVersion: row.tokenVersion, error }, outbox));
    forgetAccessTokens({ accountId: row.id });
    log.warn("refresh.token_refused", { accountId: row.id, provider: row.provider });
    throw new ReauthRequiredError(error);
  }

  const providerIds = () => [...providers.keys()];

  /** One sweep run's view of the engine (lib/tokens/sweep.ts). */
  function forSweep(): SweepSeam {
    const writer = batchingWriter(db, { outbox, onEvents });
    return { providerIds, newOwner, undecryptableMarker, refresh: (row, owner, options) => refreshClaimed(row, owner, writer, options), writeStatements: writer.statements };
  }

  return { getAccessToken, issueToken, forceRefresh, accessTokenRefused, forSweep, providerIds };
}

export type TokenEngine = ReturnType<typeof createTokenEngine>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
