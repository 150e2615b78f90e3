import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { decryptToken, encryptToken, generateKey, parseKeyring } from "@/lib/tokens/crypto";
import { DEFAULT_SWEEP_POLICY } from "@/lib/tokens/sweep-policy";
import { epochNow, postToProvider, seedMany, type SeededAccount } from "../../testkit/grants";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("postgres");
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  stack.oidc!.faults.token = undefined;
  // Each test starts with no due accounts left over from the one before.
  await stack.db.account.updateMany({ data: { status: "signed_out" } });
});

// The dev provider's access tokens live 600 s: a 300 s horizon leaves freshly
// refreshed accounts alone (the first test keeps the default 20 minutes on purpose).
const sweep = (options: Parameters<typeof sweepOnce>[1] = {}) => sweepOnce(stack, { engine: engineFor(stack), horizonSeconds: 300, ...options });
const versions = async (accounts: SeededAccount[]) => {
  const rows = await stack.db.account.findMany({ where: { id: { in: accounts.map((a) => a.accountId) } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return accounts.map((a) => byId.get(a.accountId)!);
};

describe("sweepExpiringTokens", () => {
  let accounts: SeededAccount[];
  beforeAll(async () => {
    // 200 real grants; the even ones expire within the horizon.
    accounts = await seedMany(stack.db, stack, "sweep", 200, (i) => epochNow() + (i % 2 === 0 ? 120 : 7200));
  }, 300_000);

  it("refreshes exactly the expiring accounts, each once; then two concurrent sweeps do the same", async () => {
    await stack.db.account.updateMany({ where: { id: { in: accounts.map((a) => a.accountId) } }, data: { status: "active" } });
    const before = { ...stack.oidc!.stats };
    // Default horizon (20 min) > token lifetime (10 min): each is refreshed once, and
    // due again at 80 % of its new token's life, not at once (#18).
    const report = await sweep({ concurrency: 16, horizonSeconds: DEFAULT_SWEEP_POLICY.horizonSeconds });
    expect(report).toMatchObject({ claimed: 100, refreshed: 100, failed: 0, reauthRequired: 0, skipped: 0 });
    expect(stack.oidc!.stats.refreshRequests - before.refreshRequests).toBe(100);
    const rows = await versions(accounts);
    for (const [i, row] of rows.entries()) expect(row.tokenVersion).toBe(i % 2 === 0 ? 1 : 0);

    // Make the same half due again and run two sweeps at once (a cron delivered twice).
    await stack.db.account.updateMany({ where: { id: { in: accounts.filter((_, i) => i % 2 === 0).map((a) => a.accountId) } }, data: { expires_at: epochNow() + 120, nextSweepAt: new Date() } });
    const [a, b] = await Promise.all([sweep({ concurrency: 16, batchSize: 20 }), sweep({ concurrency: 16, batchSize: 20 })]);
    expect(a.refreshed + b.refreshed).toBe(100);
    expect(a.claimed + b.claimed).toBe(100);
    expect(stack.oidc!.stats.refreshRequests - before.refreshRequests).toBe(200);
    expect(stack.oidc!.stats.invalidGrants - before.invalidGrants).toBe(0);
    for (const [i, row] of (await versions(accounts)).entries()) expect(row.tokenVersion).toBe(i % 2 === 0 ? 2 : 0);
    const runs = await stack.db.sweepRun.findMany({ orderBy: { startedAt: "desc" }, take: 3 });
    expect(runs.every((run) => run.finishedAt !== null && run.error === null)).toBe(true);
  });

  it("never sends signed-out or reauth_required accounts to the provider", async () => {
    const some = accounts.slice(0, 10);
    await stack.db.account.updateMany({ where: { id: { in: some.slice(0, 5).map((a) => a.accountId) } }, data: { status: "reauth_required", expires_at: epochNow() - 10, nextSweepAt: new Date() } });
    await stack.db.account.updateMany({ where: { id: { in: some.slice(5).map((a) => a.accountId) } }, data: { expires_at: epochNow() - 10, nextSweepAt: new Date() } });
    const before = stack.oidc!.stats.refreshRequests;
    expect(await sweep()).toMatchObject({ claimed: 0, refreshed: 0 });
    expect(stack.oidc!.stats.refreshRequests).toBe(before);
  });

  it("keeps the tokens of accounts the provider fails, retries them next run, and marks invalid_grant", async () => {
    const group = accounts.slice(20, 40);
    // Distinct due times fix the claim order: failing accounts never come three in a row.
    const base = Date.now() - 60_000;
    for (const [i, account] of group.entries()) {
      await stack.db.account.update({ where: { id: account.accountId }, data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date(base + i * 1000) } });
    }
    const current = await versions(group);
    const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
    const currentRefresh = await Promise.all(current.map((row) => decryptToken(keyring, row.refresh_token!, row, "refresh_token")));
    const failing = new Set([0, 4, 8, 12, 16].map((i) => currentRefresh[i]));
    const revoked = new Set([2, 6, 10].map((i) => currentRefresh[i]));
    stack.oidc!.faults.token = ({ refreshToken }) => (failing.has(refreshToken!) ? { status: 500 } : revoked.has(refreshToken!) ? { status: 400, error: "invalid_grant" } : undefined);

    const first = await sweep({ concurrency: 1 });
    expect(first).toMatchObject({ claimed: 20, refreshed: 12, failed: 5, reauthRequired: 3, skipped: 0 });
    const after = await versions(group);
    for (const [i, row] of after.entries()) {
      if (failing.has(currentRefresh[i])) expect(row).toMatchObject({ access_token: current[i]!.access_token, refresh_token: current[i]!.refresh_token, status: "active", failureCount: 1 });
      else if (revoked.has(currentRefresh[i])) expect(row.status).toBe("reauth_required");
      else expect(row).toMatchObject({ status: "active", tokenVersion: current[i]!.tokenVersion + 1 });
    }

    stack.oidc!.faults.token = undefined;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the back-off after one failure
    expect(await sweep()).toMatchObject({ claimed: 5, refreshed: 5, failed: 0, reauthRequired: 0 });
  });

  it("backs off a provider that answers 429 for the rest of the run", async () => {
    const group = accounts.slice(80, 90);
    await stack.db.account.updateMany({ where: { id: { in: group.map((a) => a.accountId) } }, data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date() } });
    stack.oidc!.faults.token = () => ({ status: 429, error: "rate_limited", retryAfterSeconds: 30 });
    const before = stack.oidc!.stats.refreshRequests;
    expect(await sweep({ concurrency: 1 })).toMatchObject({ claimed: 10, refreshed: 0, failed: 1, skipped: 9 });
    expect(stack.oidc!.stats.refreshRequests - before).toBe(1);
    // The skipped ones were released, not left leased.
    expect((await versions(group)).filter((row) => row.leaseOwner !== null)).toHaveLength(0);
  });

  it("stops on its time budget with a slow provider, and the next run finishes the rest", async () => {
    const group = accounts.slice(40, 70);
    await stack.db.account.updateMany({ where: { id: { in: group.map((a) => a.accountId) } }, data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date() } });
    // Each refresh waits a second at the provider: all 30, two at a time, would take 15 s.
    const delayMs = 1000;
    const budgetMs = 2000;
    stack.oidc!.faults.token = () => ({ delayMs });
    const started = Date.now();
    const first = await sweep({ budgetMs, concurrency: 2, batchSize: 10 });
    const elapsed = Date.now() - started;
    // On time: the budget plus the refreshes already in flight (one provider wait), with
    // room for the statements of a loaded machine (500 ms of it was too little for CI),
    // and far short of the 15 s that refreshing all 30 takes.
    expect(elapsed).toBeLessThan(budgetMs + delayMs + 3_000);
    // No provider call starts past the budget: at most two a slot.
    expect(first.refreshed).toBeLessThanOrEqual(2 * Math.ceil(budgetMs / delayMs));
    expect(first.refreshed).toBeGreaterThan(0);
    stack.oidc!.faults.token = undefined;
    const second = await sweep();
    expect(first.refreshed + second.refreshed).toBe(30);
    for (const row of await versions(group)) expect(row.status).toBe("active");
  });

  it("does not spin when the provider rate-limits: 64 due accounts, 429 after the first call (#11)", async () => {
    const group = accounts.slice(100, 164);
    await stack.db.account.updateMany({ where: { id: { in: group.map((a) => a.accountId) } }, data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date() } });
    let calls = 0;
    const retryAfterSeconds = 30;
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" && ++calls > 1 ? { status: 429, error: "rate_limited", retryAfterSeconds } : undefined);
    const started = Date.now();
    const report = await sweep({ concurrency: 8, batchSize: 16 });
    // It does not wait out the Retry-After (bounded well short of it, not by a stopwatch a loaded machine can beat).
    expect(Date.now() - started).toBeLessThan((retryAfterSeconds * 1000) / 2);
    expect(report.claimed).toBeLessThanOrEqual(group.length);
    expect(calls).toBeLessThanOrEqual(8);
    expect(report.refreshed).toBe(1);
    // Nothing left leased: the skipped accounts wait for the next run.
    expect((await versions(group)).filter((row) => row.leaseOwner !== null)).toHaveLength(0);
  });

  it("records a row the keys cannot open as failed, and leaves it alone until the keys change (#11)", async () => {
    const [broken, healthy] = accounts.slice(170, 172);
    const foreign = parseKeyring(generateKey());
    const row = (await versions([broken!]))[0]!;
    await stack.db.account.update({
      where: { id: broken!.accountId },
      data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date(), refresh_token: await encryptToken(foreign, "x", row, "refresh_token") },
    });
    await stack.db.account.update({ where: { id: healthy!.accountId }, data: { status: "active", expires_at: epochNow() + 61, nextSweepAt: new Date(Date.now() + 1) } });
    expect(await sweep()).toMatchObject({ claimed: 2, refreshed: 1, failed: 1 });
    const [failed] = await versions([broken!]);
    expect(failed).toMatchObject({ status: "active", failureCount: 1, leaseOwner: null });
    expect(failed!.lastError).toMatch(/^undecryptable under keys \S+: stored token was encrypted with key/);
    // Same keys: not claimed again, however often the cron runs.
    expect(await sweep()).toMatchObject({ claimed: 0 });
    // A key added (the fix an operator makes): tried again, once.
    const rekeyed = parseKeyring(`${stack.env.TOKEN_ENCRYPTION_KEYS},${generateKey()}`);
    expect(await sweep({ engine: engineFor(stack, { keyring: rekeyed }) })).toMatchObject({ claimed: 1, failed: 1 });
  });

  it("fails only the account whose write fails, and logs the lost rotation with its id (#11)", async () => {
    const group = accounts.slice(180, 190);
    await stack.db.account.updateMany({ where: { id: { in: group.map((a) => a.accountId) } }, data: { status: "active", expires_at: epochNow() + 60, nextSweepAt: new Date() } });
    const before = await versions(group);
    // Every write of new tokens to that one row fails (a 20-year expires_in did this
    // while expires_at was a 32-bit column: #18 widened it, so a trigger does it now).
    await stack.backend.exec(`
      CREATE FUNCTION refuse_tokens() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected: cannot write'; END $$;
      CREATE TRIGGER refuse_tokens BEFORE UPDATE ON "Account" FOR EACH ROW
        WHEN (NEW.id = '${group[3]!.accountId}' AND NEW."tokenVersion" <> OLD."tokenVersion") EXECUTE FUNCTION refuse_tokens();`);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await sweep({ concurrency: 10 })).toMatchObject({ claimed: 10, refreshed: 9, failed: 1 });
      const lost = errors.mock.calls.map(([line]) => JSON.parse(String(line))).filter((line) => line.event === "refresh.rotation_lost");
      expect(lost).toMatchObject([{ level: "error", accountId: group[3]!.accountId, provider: "oidc", attempts: 3 }]);
    } finally {
      errors.mockRestore();
      await stack.backend.exec(`DROP TRIGGER refuse_tokens ON "Account"; DROP FUNCTION refuse_tokens();`);
    }
    const written = (await versions(group)).map((row, i) => row.tokenVersion - before[i]!.tokenVersion);
    expect(written).toStrictEqual([1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
  });

  it("retries a write that fails once, so a rotated refresh token is not lost (#11)", async () => {
    const [account] = accounts.slice(195, 196);
    await stack.db.account.update({ where: { id: account!.accountId }, data: { status: "active", expires_at: epochNow() - 5 } });
    // The first write of new tokens to this row fails; the sequence counts outside the rolled-back transaction.
    await stack.backend.exec(`
      CREATE SEQUENCE write_attempts;
      CREATE FUNCTION fail_first_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id = '${account!.accountId}' AND nextval('write_attempts') = 1 THEN RAISE EXCEPTION 'injected: connection reset'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_first_write BEFORE UPDATE ON "Account" FOR EACH ROW
        WHEN (NEW."tokenVersion" <> OLD."tokenVersion") EXECUTE FUNCTION fail_first_write();`);
    const before = { ...stack.oidc!.stats };
    try {
      const token = await engineFor(stack).getAccessToken(account!.userId, "oidc");
      const response = await fetch(`${stack.env.AUTH_OIDC_ISSUER}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
    } finally {
      await stack.backend.exec(`DROP TRIGGER fail_first_write ON "Account"; DROP FUNCTION fail_first_write(); DROP SEQUENCE write_attempts;`);
    }
    expect(stack.oidc!.stats.refreshSuccesses - before.refreshSuccesses).toBe(1);
    // The stored refresh token is the rotated one: it still works.
    expect(await engineFor(stack).getAccessToken(account!.userId, "oidc")).toBeTruthy();
    const [row] = await versions([account!]);
    const refresh = await decryptToken(parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS), row!.refresh_token!, row!, "refresh_token");
    expect((await postToProvider(stack, "/token", { grant_type: "refresh_token", refresh_token: refresh })).status).toBe(200);
  });
});
