import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimLease, type TokenWrite } from "@/lib/db/refresh";
import { batchingWriter } from "@/lib/tokens/batch-writer";
import { startTestStack, type TestStack } from "../../testkit/stack";
import { tokenWrite } from "../../testkit/grants";

// The sweep's write-back: refreshes that complete one by one still share statements
// (issue #23: grouping only same-turn writes gave ~1.4 rows per statement at c=32).
// A second connection holds a row lock, so a statement is in flight for as long as
// the test says.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("postgres");
});
afterAll(() => stack?.stop());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function leased(count: number, prefix: string): Promise<TokenWrite[]> {
  const writes: TokenWrite[] = [];
  for (let i = 0; i < count; i++) {
    const user = await stack.db.user.create({ data: { name: `${prefix}-${i}` } });
    const row = await stack.db.account.create({ data: { userId: user.id, type: "oidc", provider: "oidc", providerAccountId: `${prefix}-${i}`, refresh_token: "r", expires_at: 10 } });
    await claimLease(stack.db, row.id, { owner: `${prefix}-owner`, leaseMs: 60_000 });
    writes.push(tokenWrite(row.id, `${prefix}-owner`, { accessToken: `a-${i}`, refreshToken: `r-${i}`, expiresAt: 2_000_000_000 }));
  }
  return writes;
}

describe("batchingWriter", () => {
  it("sends the writes that arrive while a statement is in flight together in the next one", async () => {
    const writes = await leased(10, "group");
    const blocker = new pg.Client({ connectionString: stack.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query(`SELECT 1 FROM "Account" WHERE id = $1 FOR UPDATE`, [writes[0]!.id]);
    const writer = batchingWriter(stack.db);
    const done: Promise<number | undefined>[] = [writer(writes[0]!)];
    await pause(20); // the first statement is now in flight, waiting on the lock
    for (const write of writes.slice(1)) {
      done.push(writer(write));
      await pause(2); // each in a turn of its own, as refreshes completing apart
    }
    await blocker.query("COMMIT");
    await blocker.end();
    expect(await Promise.all(done)).toStrictEqual(writes.map(() => 1));
    expect(writer.statements()).toBe(2);
    const stored = await stack.db.account.findMany({ where: { id: { in: writes.map((w) => w.id) } } });
    expect(stored.every((row) => row.leaseOwner === null && row.tokenVersion === 1)).toBe(true);
  });

  it("sends a lone write at the next turn, without waiting for company", async () => {
    const [write] = await leased(1, "lone");
    const writer = batchingWriter(stack.db);
    expect(await writer(write!)).toBe(1);
    expect(writer.statements()).toBe(1);
  });
});
