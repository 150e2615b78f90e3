import { describe, expect, it } from "vitest";
import { accountEvent, type AccountChange, type AccountState } from "@/lib/event-rules";

// #17: which change raises which event, decided in one table (lib/event-rules.ts) and
// rendered into the statements that write events (tests/pglite/webhooks.test.ts and
// grant-lifetimes.test.ts see the same rules end to end).
const state = (status: string, failureCount = 0): AccountState => ({ status, failureCount });

describe("account event rules", () => {
  const cases: [string, AccountChange, AccountState, AccountState, number, string | null][] = [
    ["a failure that ends the grant", "failed", state("active", 0), state("reauth_required", 1), 5, "account.reauth_required"],
    ["a failure on a grant already ended", "failed", state("reauth_required", 3), state("reauth_required", 4), 5, null],
    ["the failure that reaches the threshold", "failed", state("active", 4), state("active", 5), 5, "account.refresh_failing"],
    ["a failure below the threshold", "failed", state("active", 3), state("active", 4), 5, null],
    ["a failure past the threshold (reported once)", "failed", state("active", 5), state("active", 6), 5, null],
    ["a failure that ends the grant at the threshold", "failed", state("active", 4), state("reauth_required", 5), 5, "account.reauth_required"],
    ["a failure with events off", "failed", state("active", 0), state("active", 1), 0, null],
    ["a refresh after reported failures", "refreshed", state("active", 5), state("active", 0), 5, "account.recovered"],
    ["a refresh after unreported failures", "refreshed", state("active", 4), state("active", 0), 5, null],
    ["a refresh with events off", "refreshed", state("active", 9), state("active", 0), 0, null],
    ["a sign-in after reauth_required", "signed_in", state("reauth_required", 1), state("active", 0), 5, "account.recovered"],
    ["a sign-in after reported failures", "signed_in", state("active", 7), state("active", 0), 5, "account.recovered"],
    ["a sign-in on a healthy account", "signed_in", state("active", 0), state("active", 0), 5, null],
    ["a sign-in after sign-out", "signed_in", state("signed_out", 0), state("active", 0), 5, null],
  ];
  it.each(cases)("%s", (_name, change, before, after, failingAfter, expected) => {
    expect(accountEvent(change, before, after, failingAfter)).toStrictEqual(expected);
  });
});
