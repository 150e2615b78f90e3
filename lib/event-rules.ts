// Which change to an account raises which event: one table, pure, tested table-style
// (tests/unit/event-rules.unit.test.ts). lib/db/outbox.ts renders it into the CASE
// of each statement that makes such a change, so the event is written in the same
// statement as the change it reports (ARCHITECTURE invariant 2).

/** The statements that change an account's state: a refresh's write, a refresh's failure, a sign-in's write. */
export type AccountChange = "refreshed" | "failed" | "signed_in";

/** The state the rules read: before the statement (`before`) and after it (`after`). */
export type AccountState = { status: string; failureCount: number };

/** One condition on a change; a rule holds when any of its conditions does. */
export type Condition =
  /** The status became `status` (it was something else before). */
  | { becomes: string }
  /** The status was `status` before. */
  | { was: string }
  /** Still active, and the failures in a row just reached TOKENKEEPER_WEBHOOK_FAILING_AFTER. */
  | { failuresReach: "threshold" }
  /** The failures in a row had reached the threshold before (and so had been reported). */
  | { failuresHadReached: "threshold" };

export type EventRule = { change: AccountChange; type: `account.${string}`; when: Condition[] };

/** In order: for a change, the first rule that holds names its event (at most one per change). */
export const EVENT_RULES: readonly EventRule[] = [
  { change: "failed", type: "account.reauth_required", when: [{ becomes: "reauth_required" }] },
  { change: "failed", type: "account.refresh_failing", when: [{ failuresReach: "threshold" }] },
  { change: "refreshed", type: "account.recovered", when: [{ failuresHadReached: "threshold" }] },
  { change: "signed_in", type: "account.recovered", when: [{ was: "reauth_required" }, { failuresHadReached: "threshold" }] },
];

/** Whether `condition` holds; `failingAfter` 0 means events are off (no threshold). */
export function holds(condition: Condition, before: AccountState, after: AccountState, failingAfter: number): boolean {
  if ("becomes" in condition) return after.status === condition.becomes && before.status !== condition.becomes;
  if ("was" in condition) return before.status === condition.was;
  if ("failuresReach" in condition) return after.status === "active" && failingAfter > 0 && after.failureCount === failingAfter;
  return failingAfter > 0 && before.failureCount >= failingAfter;
}

/** The event `change` raises, or null. */
export function accountEvent(change: AccountChange, before: AccountState, after: AccountState, failingAfter: number): EventRule["type"] | null {
  const rule = EVENT_RULES.find((candidate) => candidate.change === change && candidate.when.some((condition) => holds(condition, before, after, failingAfter)));
  return rule?.type ?? null;
}
