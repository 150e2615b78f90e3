import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimDueAccounts, claimLease, writeTokens } from "@/lib/db/refresh";
import { startTestStack, type TestStack } from "../../testkit/stack";
import { tokenWrite } from "../../testkit/grants";

// Prisma 7 through @prisma/adapter-neon's HTTP adapter, against the local endpoint:
// the exact path production takes to Neon.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());

async function account(providerAccountId: string, fields: Record<string, unknown> = {}) {
  const user = await stack.db.user.create({ data: { name: providerAccountId } });
  return stack.db.account.create({ data: { userId: user.id, type: "oidc", provider: "oidc", providerAccountId, refresh_token: "r", ...fields } });
}

describe("Prisma over PrismaNeonHttp", () => {
  it("creates, finds and updates by the compound key", async () => {
    await account("compound-1", { expires_at: 100 });
    const key = { provider_providerAccountId: { provider: "oidc", providerAccountId: "compound-1" } };
    expect(await stack.db.account.findUnique({ where: key })).toMatchObject({ expires_at: 100n, status: "active", tokenVersion: 0 });
    const updated = await stack.db.account.update({ where: key, data: { expires_at: 200, tokenVersion: { increment: 1 } } });
    expect(updated).toMatchObject({ expires_at: 200n, tokenVersion: 1 });
  });

  it("runs updateMany (prisma/orm #29748 wrapped it in a transaction in 7.8-7.9)", async () => {
    const a = await account("many-1");
    await account("many-2", { userId: a.userId });
    const result = await stack.db.account.updateMany({ where: { userId: a.userId }, data: { status: "signed_out" } });
    expect(result).toStrictEqual({ count: 2 });
  });

  it("runs createMany, updateManyAndReturn and deleteMany", async () => {
    const stamp = Date.now();
    expect(await stack.db.user.createMany({ data: [{ email: `m1-${stamp}@x` }, { email: `m2-${stamp}@x` }] })).toStrictEqual({ count: 2 });
    expect(await stack.db.user.updateManyAndReturn({ where: { email: `m1-${stamp}@x` }, data: { name: "m" } })).toHaveLength(1);
    expect(await stack.db.user.deleteMany({ where: { email: { in: [`m1-${stamp}@x`, `m2-${stamp}@x`] } } })).toStrictEqual({ count: 2 });
  });

  // Prisma 7.10 runs these inside a transaction, which Neon's HTTP driver cannot
  // open: Tokenkeeper's code uses none of them (nested writes, upsert, $transaction).
  it.each([
    ["an interactive $transaction", () => stack.db.$transaction(async (tx) => tx.user.count())],
    ["a batch $transaction([...])", () => stack.db.$transaction([stack.db.user.count(), stack.db.account.count()])],
    ["upsert", () => stack.db.user.upsert({ where: { email: "upsert@x" }, create: { email: "upsert@x" }, update: {} })],
    ["a nested create", () => stack.db.user.create({ data: { accounts: { create: { type: "oidc", provider: "oidc", providerAccountId: "nested" } } } })],
  ])("refuses %s over HTTP", async (_label, operation) => {
    await expect(operation()).rejects.toThrow(/Transactions are not supported in HTTP mode/);
  });

  // A run that started after the rows of these tests were written.
  const sweepClaim = (owner: string) => ({
    owner,
    providers: ["oidc"],
    leaseMs: 60_000,
    limit: 100,
    notWrittenSince: new Date(Date.now() + 1000),
    undecryptableMarker: "undecryptable under keys test:",
  });

  it("claims due accounts with one UPDATE … FOR UPDATE SKIP LOCKED … RETURNING", async () => {
    const due = await account("claim-due", { expires_at: 10 });
    const later = await account("claim-later", { expires_at: 2_000_000_000, refreshedAt: new Date(), nextSweepAt: new Date(Date.now() + 3_600_000) });
    const claimed = await claimDueAccounts(stack.db, sweepClaim("sweep-a"));
    const ids = claimed.map((row) => row.id);
    expect(ids).toContain(due.id);
    expect(ids).not.toContain(later.id);
    expect(claimed.find((row) => row.id === due.id)).toMatchObject({ leaseOwner: "sweep-a" });
    // Leased rows are not claimed again, by a sweep or by the on-demand path.
    expect((await claimDueAccounts(stack.db, sweepClaim("sweep-b"))).map((r) => r.id)).not.toContain(due.id);
    expect(await claimLease(stack.db, due.id, { owner: "on-demand", leaseMs: 1000 })).toBeNull();
  });

  it("leaves accounts written since the run started, and rows the current keys cannot open, unclaimed (#11, #23)", async () => {
    const marked = await account("undecryptable-now", { expires_at: 10, lastError: "undecryptable under keys test: no key" });
    const otherKeys = await account("undecryptable-before", { expires_at: 10, lastError: "undecryptable under keys older: no key" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const runStart = new Date();
    // Failed in this run (its back-off already over): the next run retries it, not this one.
    const failed = await account("failed-in-run", { expires_at: 10, failureCount: 1, lastError: "server_error" });
    expect(failed.updatedAt.getTime()).toBeGreaterThanOrEqual(runStart.getTime());
    const ids = (await claimDueAccounts(stack.db, { ...sweepClaim("sweep-d"), notWrittenSince: runStart })).map((row) => row.id);
    expect(ids).not.toContain(failed.id);
    expect(ids).not.toContain(marked.id);
    // The keys changed since it failed: worth one more try.
    expect(ids).toContain(otherKeys.id);
  });

  it("leaves accounts of providers that are not enabled unclaimed", async () => {
    const other = await account("other-provider", { provider: "google", expires_at: 10 });
    const claimed = await claimDueAccounts(stack.db, sweepClaim("sweep-c"));
    expect(claimed.map((row) => row.id)).not.toContain(other.id);
  });

  it("writes back only under the lease it holds (compare-and-set)", async () => {
    const row = await account("cas", { expires_at: 10 });
    expect(await claimLease(stack.db, row.id, { owner: "holder", leaseMs: 60_000 })).toMatchObject({ id: row.id, leaseOwner: "holder" });
    const tokens = { accessToken: "a2", refreshToken: "r2", expiresAt: 999 };
    expect(await writeTokens(stack.db, [tokenWrite(row.id, "intruder", tokens)], null)).toStrictEqual({ versions: new Map(), rows: new Map(), events: 0 });
    expect(await writeTokens(stack.db, [tokenWrite(row.id, "holder", tokens)], null)).toStrictEqual({ versions: new Map([[row.id, 1]]), rows: new Map(), events: 0 });
    expect(await stack.db.account.findUnique({ where: { id: row.id } })).toMatchObject({ access_token: "a2", refresh_token: "r2", expires_at: 999n, leaseOwner: null, tokenVersion: 1 });
  });
});
